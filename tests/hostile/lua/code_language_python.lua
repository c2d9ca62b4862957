-- Lua code sent with "language": "python".
function f(df) return {} end
