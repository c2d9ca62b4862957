-- gsub that turns 1 MB into 100 MB.
function f(df)
  local s = string.rep("a", 1000000)
  s = s:gsub("a", string.rep("b", 100))
  return {}
end
