-- A position that is infinite (portfolio backtest).
function f(df)
  local pos = {}
  for i = 1, df.n do pos[i] = 1 end
  pos[2] = 1/0
  return pos
end
