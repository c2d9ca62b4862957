-- Nested pcalls until the C stack runs out, then fails with what it got.
function f(df)
  local function r() local ok, e = pcall(r) if not ok then error(e, 0) end end
  r()
end
