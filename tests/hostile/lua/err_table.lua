-- error() with a table.
function f(df) error({code = 42}) end
