-- An instance with a key that is not a string.
function f(df) return {{ticker = df.ticker[1], date = df.date[1], [true] = 1}} end
