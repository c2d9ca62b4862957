-- %q of a 20 MB string (quoting makes it bigger still).
function f(df) local s = string.format("%q", string.rep("\0", 2e7)) return {} end
