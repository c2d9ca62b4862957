-- Loads a file.
function f(df) local g = loadfile("/etc/passwd") return {} end
