-- More instances than allowed (one shared table, a million and one times).
function f(df)
  local one, out = {ticker = df.ticker[1], date = df.date[1]}, {}
  for i = 1, 1000001 do out[i] = one end
  return out
end
