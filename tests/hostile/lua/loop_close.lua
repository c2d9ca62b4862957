-- A to-be-closed variable whose __close never returns, after a time-limit error.
function f(df)
  local guard <close> = setmetatable({}, {__close = function() while true do end end})
  while true do end
end
