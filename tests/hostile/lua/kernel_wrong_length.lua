-- A kernel over an array that is not aligned with df.
function f(df) return {ema({1, 2, 3}, 2)} end
