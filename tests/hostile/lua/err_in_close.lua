-- An error raised by a to-be-closed variable while returning.
function f(df)
  local guard <close> = setmetatable({}, {__close = function() error("from __close", 0) end})
  return {}
end
