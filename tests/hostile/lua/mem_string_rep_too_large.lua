-- A string larger than Lua can represent.
function f(df)
  local s = string.rep("x", 2^62, ",")
  return {}
end
