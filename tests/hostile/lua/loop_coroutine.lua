-- A busy loop inside a coroutine.
function f(df)
  coroutine.wrap(function() while true do end end)()
end
