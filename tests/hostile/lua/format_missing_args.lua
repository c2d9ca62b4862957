-- A thousand conversions, no arguments.
function f(df) return {string.rep("%d", 1000):format()} end
