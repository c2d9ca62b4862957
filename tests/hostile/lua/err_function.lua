-- error() with a function.
function f(df) error(print) end
