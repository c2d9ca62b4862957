-- string.pack of a field a terabyte wide.
function f(df) return {string.pack("c1099511627776", "")} end
