-- Finalizers armed to run only after the strategy has returned, when its
-- result is being read: each would allocate 256 MB and spin. The table
-- growth at the end (no collector check on table stores) leaves the
-- collector in debt, so its next step, in the result's reading, would run
-- them.
function f(df)
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
