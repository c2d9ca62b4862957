-- An instance whose date is not a date.
function f(df) return {{ticker = df.ticker[1], date = "2024-13-45"}} end
