-- A screening score that is a table, not a number: ranked as no score.
function f(df)
  return {{ticker = df.ticker[df.n], date = df.date[df.n], score = {1}}}
end
