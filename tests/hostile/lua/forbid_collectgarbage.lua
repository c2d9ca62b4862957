-- collectgarbage.
function f(df) collectgarbage("stop") return {} end
