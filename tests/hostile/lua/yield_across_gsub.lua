-- A yield from a gsub callback (across a C call).
function f(df)
  return coroutine.wrap(function()
    return ("abc"):gsub(".", function(c) coroutine.yield(c) end)
  end)()
end
