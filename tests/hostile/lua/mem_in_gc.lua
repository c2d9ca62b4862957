-- A finalizer that allocates without end while the strategy runs: Lua turns
-- its memory error into a warning, but the limit was still broken.
function f(df)
  -- About 24 MB of garbage first: the collector is held for a run's first
  -- allocations (a quarter of the room its memory limit leaves, 8 MB here:
  -- strategy_state.c), and these finalizers must run while it runs.
  for i = 1, 12000 do local s = string.rep("g", 1000) .. i end
  local keep, hit = {}, false
  for i = 1, 20000 do
    setmetatable({}, {__gc = function()
      if hit then return end
      hit = true
      local t = {}
      while true do t[#t + 1] = {} end
    end})
    keep[i % 1000 + 1] = {i}
  end
  return {}
end
