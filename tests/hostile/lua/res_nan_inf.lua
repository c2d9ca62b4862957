-- NaN and infinities in an instance: written as null, not an error.
function f(df)
  return {{ticker = df.ticker[1], date = df.date[1], nan = 0/0, inf = 1/0, ninf = -1/0, big = math.maxinteger}}
end
