-- Finalizers that raise errors (Lua turns them into warnings): harmless.
function f(df)
  -- About 24 MB of garbage first: the collector is held for a run's first
  -- allocations (a quarter of the room its memory limit leaves, 8 MB here:
  -- strategy_state.c), and these finalizers must run while it runs.
  for i = 1, 12000 do local s = string.rep("g", 1000) .. i end
  for i = 1, 20000 do setmetatable({}, {__gc = function() error("from __gc") end}) end
  return {}
end
