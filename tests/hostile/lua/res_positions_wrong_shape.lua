-- Instances where positions are wanted (portfolio backtest).
function f(df) return {{ticker = df.ticker[1], date = df.date[1]}} end
