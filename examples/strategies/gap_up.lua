-- gap_up.lua — a signal strategy for `backtest` and `screening`: stocks
-- that open more than 3% above yesterday's close on heavy volume.
-- Each instance is a signal on its bar; a backtest buys the next bar's open.
-- The score ranks screening results (bigger gaps on more volume first).
function gap_up_strategy(df)
  local out = {}
  local gap, vr = df.gap_pct, df.volume_ratio
  for i = 1, df.n do
    if gap[i] > 3.0 and vr[i] > 1.5 then
      out[#out + 1] = {
        ticker = df.ticker[i], date = df.date[i], signal = true,
        gap_percent = gap[i], volume_ratio = vr[i],
        score = gap[i] * math.min(vr[i], 5),
        message = string.format("%s gapped up %.1f%% on %.1fx volume", df.ticker[i], gap[i], vr[i]),
      }
    end
  end
  return out
end
