-- error() with nil.
function f(df) error() end
