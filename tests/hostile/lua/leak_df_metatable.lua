-- Replaces df's __index and the kernels' view of it, and returns normally.
function f(df)
  local mt = getmetatable(df)
  mt.__index = function() return {} end
  mt.__newindex = function() end
  return {}
end
