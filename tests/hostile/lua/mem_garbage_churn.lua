-- Not hostile: 16 MB kept and 1 MB strings made and dropped, under a 32 MB
-- limit. The collector frees the garbage (at worst in an emergency
-- collection when an allocation would pass the limit): the live data never
-- passes it, so this must complete.
function f(df)
  local keep = {}
  for i = 1, 16 do keep[i] = string.rep(string.char(64 + i), 2^20) end
  local n = 0
  for i = 1, 50 do
    local s = string.rep(string.char(i % 26 + 65), 2^20)
    n = n + #s
  end
  return {{ticker = df.ticker[1], date = df.date[1], kept = #keep, made = n}}
end
