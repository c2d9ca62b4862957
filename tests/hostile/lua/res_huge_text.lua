-- A result that is small in Lua (one shared 64 KB string) and huge as JSON
-- (100,000 instances of it: 6.5 GB of text).
function f(df)
  local one = {ticker = df.ticker[1], date = df.date[1], blob = string.rep("q", 65536)}
  local out = {}
  for i = 1, 100000 do out[i] = one end
  return out
end
