-- A finalizer that allocates without end while the strategy runs: Lua turns
-- its memory error into a warning, but the limit was still broken.
function f(df)
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
