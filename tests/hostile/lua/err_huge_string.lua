-- error() with a 1 MB message.
function f(df) error(string.rep("E", 1e6)) end
