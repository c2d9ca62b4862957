-- momentum.lua — a signal strategy made for `screening`: tickers whose
-- close is above their 50-day SMA, scored by 20-bar momentum (percent),
-- with RSI(14) below 75 so that exhausted runs are left out. It signals on
-- every qualifying bar, so it also backtests; a screening keeps the
-- instances on each ticker's latest bar and ranks them by score.
function momentum(df)
  local out = {}
  local close, sma50, rsi14 = df.close, df.sma_50, df.rsi_14
  local mom = pct_change(close, 20)   -- kernel: restarts at each ticker
  for i = 1, df.n do
    if close[i] > sma50[i] and rsi14[i] < 75 and mom[i] > 0 then
      out[#out + 1] = {
        ticker = df.ticker[i], date = df.date[i], signal = true, score = mom[i],
        rsi = rsi14[i],
        message = string.format("%s up %.1f%% in 20 bars, RSI %.0f", df.ticker[i], mom[i], rsi14[i]),
      }
    end
  end
  return out
end
