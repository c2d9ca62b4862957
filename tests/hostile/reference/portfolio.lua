-- The reference portfolio backtest: positions from an EMA crossover, so
-- that a second task type and other kernels and columns are checked too.
function reference(df)
  local fast, slow = ema(df.close, 3), df.ema_8
  local pos = {}
  for i = 1, df.n do
    pos[i] = fast[i] > slow[i] and 1 or 0
  end
  return pos
end
