-- __gc finalizers that never return: the collector runs them with hooks off,
-- so only the wall clock can stop them.
function f(df)
  local junk = {}
  for i = 1, 1e9 do
    setmetatable({}, {__gc = function() while true do end end})
    junk[i % 1000 + 1] = {i}
  end
end
