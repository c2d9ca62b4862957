-- Calls a kernel in the chunk, before there is any df.
local warm = sma({1, 2, 3}, 2)
function f(df) return {} end
