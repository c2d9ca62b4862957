-- A yield from __tostring (across a C call).
function f(df)
  local t = setmetatable({}, {__tostring = function() coroutine.yield() return "x" end})
  return coroutine.wrap(function() return tostring(t) end)()
end
