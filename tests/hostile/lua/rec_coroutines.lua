-- Coroutines resuming coroutines, without end.
function f(df)
  local function r() return coroutine.wrap(r)() end
  return r()
end
