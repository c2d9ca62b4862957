-- Recursion through a C function (gsub calling back into itself).
function f(df)
  local function g(s) return (s:gsub(".", g)) end
  return g("ab")
end
