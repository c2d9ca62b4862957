-- Catches its memory error and returns as if nothing happened.
function f(df)
  pcall(function() local t = {} while true do t[#t + 1] = {} end end)
  return {}
end
