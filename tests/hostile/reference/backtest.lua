-- The reference backtest: run after every hostile entry, its result must be
-- the same as on a fresh worker. It leans on what a hostile strategy might
-- try to poison: df columns (from the warm state), kernels, the string,
-- table, math and os libraries, ipairs, pairs, tostring and string methods.
function reference(df)
  local close, open, fast = df.close, df.open, df.sma_5
  local slow = sma(close, 10)
  local out = {}
  for i, t in ipairs(df.ticker) do
    if i > 1 and fast[i] > slow[i] and close[i] > open[i] then
      local n = 0
      for _ in pairs(df) do n = n + 1 end
      table.insert(out, {
        ticker = t, date = df.date[i],
        tag = string.format("%s/%s/%d", t:lower(), tostring(math.floor(close[i])), i),
        day = os.date("!%j", os.time({year = 2020, month = 1, day = 1}) + i * 86400),
        rep = ("ab"):rep(2), cols = n,
        gap = df.gap_pct[i],
      })
    end
  end
  return out
end
