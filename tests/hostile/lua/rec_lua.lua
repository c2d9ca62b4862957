-- Unbounded Lua recursion.
function f(df)
  local function r(n) return 1 + r(n + 1) end
  return r(1)
end
