-- Names a forbidden builtin (collectgarbage) as the entry.
function f(df) return {} end
