-- Returns a function instead of a list.
function f(df) return f end
