-- A C loop of 10^15 steps (table.move): no Lua instruction for the hook to count.
function f(df)
  table.move({}, 1, 1e15, 1, {})
end
