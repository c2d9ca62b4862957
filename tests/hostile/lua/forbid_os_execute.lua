-- Runs a shell command.
function f(df) os.execute("touch /tmp/tickq-hostile-pwned") return {} end
