-- Runs a file.
function f(df) dofile("/etc/passwd") return {} end
