-- Suspended coroutines kept for ever.
function f(df)
  local cs = {}
  for i = 1, 1e12 do
    local co = coroutine.create(function() coroutine.yield(i) end)
    coroutine.resume(co)
    cs[i] = co
  end
end
