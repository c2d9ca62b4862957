-- About 900 KB of valid code: it compiles and runs.
local x = 0
@STATEMENTS@
function f(df) return {} end
