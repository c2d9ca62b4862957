-- goto into the scope of a local.
function f(df)
  goto inside
  local x = 1
  ::inside::
  print(x)
  return {}
end
