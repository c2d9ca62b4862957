-- One string of 10 GB.
function f(df)
  local s = string.rep("x", 1e10)
  return {}
end
