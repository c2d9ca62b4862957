-- Code that is not UTF-8 text (refused before it is queued).
function f(df) return {} end -- café
