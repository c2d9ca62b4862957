-- Names a builtin (error) as the entry: it gets df as its error object.
function f(df) return {} end
