-- Catastrophic backtracking: 40 nested a* against a string with no b.
function f(df)
  local s = string.rep("a", 40)
  return {s:find(string.rep("a*", 40) .. "b")}
end
