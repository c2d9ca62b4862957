-- A pattern that recurses past Lua's matcher depth.
function f(df)
  local s = string.rep("a", 300000)
  return {s:match(string.rep("a?", 300000) .. string.rep("a", 300000))}
end
