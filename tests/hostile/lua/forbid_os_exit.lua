-- Ends the process.
function f(df) os.exit(0) end
