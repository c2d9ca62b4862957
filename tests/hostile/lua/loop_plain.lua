-- A busy loop in the strategy function.
function f(df)
  while true do end
end
