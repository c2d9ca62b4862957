-- An instance holding a function.
function f(df) return {{ticker = df.ticker[1], date = df.date[1], cb = print}} end
