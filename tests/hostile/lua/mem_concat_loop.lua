-- A string that doubles for ever.
function f(df)
  local s = "x"
  while true do s = s .. s end
end
