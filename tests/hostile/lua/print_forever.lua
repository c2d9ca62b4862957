-- Prints for ever.
function f(df)
  while true do print(string.rep("y", 1000)) end
end
