-- Its own message dressed as the sandbox's time-limit error.
function f(df) error("Strategy exceeded time limit (30 s)", 0) end
