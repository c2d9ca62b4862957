-- Finalizers armed to run only after the strategy has returned, when its
-- result is being read: each would allocate 256 MB and spin. The table
-- growth at the end (no collector check on table stores) leaves the
-- collector in debt, so its next step, in the result's reading, would run
-- them.
function f(df)
  -- About 24 MB of garbage first: the collector is held for a run's first
  -- allocations (a quarter of the room its memory limit leaves, 8 MB here:
  -- strategy_state.c), and it must be running when the strategy returns.
  for i = 1, 12000 do local s = string.rep("g", 1000) .. i end
  local out = {{ticker = df.ticker[1], date = df.date[1]}}
  local armed = false
  for i = 1, 1000 do
    setmetatable({}, {__gc = function()
      if armed then
        local s = string.rep("z", 256 * 2^20)
        while true do end
      end
    end})
  end
  armed = true
  local t = {}
  for i = 1, 400000 do t[i] = i end
  return out
end
