-- Opens a file.
function f(df) local h = io.open("/etc/passwd") return {} end
