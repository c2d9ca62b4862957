-- A kernel window far out of range.
function f(df) return {sma(df.close, 1e12)} end
