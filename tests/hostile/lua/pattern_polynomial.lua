-- Polynomial backtracking (n^4) inside one string.find call.
function f(df)
  local s = string.rep("a", 30000)
  return {s:find(".-.-.-x")}
end
