-- A yield from a table.sort comparator (across a C call).
function f(df)
  return coroutine.wrap(function()
    table.sort({3, 2, 1}, function(a, b) coroutine.yield() return a < b end)
  end)()
end
