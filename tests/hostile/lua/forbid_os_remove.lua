-- Deletes a file.
function f(df) os.remove("/tmp/x") return {} end
