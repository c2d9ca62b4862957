-- Fresh coroutines that spin, resumed for ever; each one's error is caught by resume.
function f(df)
  while true do
    coroutine.resume(coroutine.create(function() while true do end end))
  end
end
