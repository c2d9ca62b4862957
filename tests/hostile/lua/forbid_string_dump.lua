-- string.dump of a function.
function f(df) local s = string.dump(f) return {} end
