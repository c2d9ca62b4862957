-- load of a binary chunk.
function f(df) local g = load("\27LuaT\0\25\147\r\n\26\n") return {} end
