-- Overwrites the df columns it reads (they come from the warm state) and
-- returns normally.
function f(df)
  for _, name in ipairs({"close", "open", "ticker", "date", "sma_5"}) do
    local col = df[name]
    for i = 1, #col do col[i] = name == "ticker" and "PWNED" or (name == "date" and "1999-01-01" or -1e300) end
  end
  rawset(df, "n", 0)
  setmetatable(df, nil)
  return {}
end
