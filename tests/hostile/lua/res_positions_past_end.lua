-- More positions than df has rows (portfolio backtest).
function f(df)
  local pos = {}
  for i = 1, df.n + 5 do pos[i] = 1 end
  return pos
end
