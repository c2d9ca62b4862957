-- Prints bytes that are not UTF-8, NULs and control characters.
function f(df)
  print("\0\1\2\255\254\27[31m red \r\n")
  return {}
end
