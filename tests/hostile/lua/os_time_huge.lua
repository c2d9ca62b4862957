-- os.time of a year far out of range.
function f(df) return {os.time({year = 1e15, month = 1, day = 1})} end
