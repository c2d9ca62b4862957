-- A NUL byte inside the code: through --arg-file (refused), and through the
-- users' list protocol (past the CLI's checks: the worker refuses it).
function f(df) return {} end
@NUL@
