-- An instance holding a coroutine.
function f(df) return {{ticker = df.ticker[1], date = df.date[1], co = coroutine.create(print)}} end
