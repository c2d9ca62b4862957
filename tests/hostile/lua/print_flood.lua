-- Prints 20 MB and returns normally: the output is cut at 64 KiB.
function f(df)
  local line = string.rep("p", 999)
  for i = 1, 20000 do print(line) end
  return {}
end
