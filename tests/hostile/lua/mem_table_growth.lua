-- A table that grows for ever.
function f(df)
  local t, i = {}, 0
  while true do i = i + 1 t[i] = {i, i} end
end
