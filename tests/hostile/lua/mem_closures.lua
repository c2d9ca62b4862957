-- Closures kept for ever.
function f(df)
  local fs = {}
  for i = 1, 1e12 do fs[i] = function() return i end end
end
