-- A NUL byte inside the code, sent through the users' list protocol (past the CLI's checks).
function f(df) return {} end
@NUL@
