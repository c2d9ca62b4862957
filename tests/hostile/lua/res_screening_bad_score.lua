-- A screening score that is a table, not a number: an error naming the instance
-- (ranked as no score, it would hide the slip).
function f(df)
  return {{ticker = df.ticker[df.n], date = df.date[df.n], score = {1}}}
end
