-- Finalizers that raise errors (Lua turns them into warnings): harmless.
function f(df)
  for i = 1, 20000 do setmetatable({}, {__gc = function() error("from __gc") end}) end
  return {}
end
