-- A busy loop in the chunk itself, before any function is called.
while true do end
function f(df) return {} end
