-- Unbounded Lua recursion with a small memory limit: the stack outgrows the limit first.
function f(df)
  local function r(n) return 1 + r(n + 1) end
  return r(1)
end
