-- An instance that holds itself.
function f(df)
  local one = {ticker = df.ticker[1], date = df.date[1]}
  one.self = one
  return {one}
end
