-- A forbidden call from a finalizer, whose error Lua swallows.
function f(df)
  for i = 1, 20000 do setmetatable({}, {__gc = function() os.execute("id") end}) end
  return {}
end
