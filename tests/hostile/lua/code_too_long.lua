-- About 2 MB of code: over the payload limit.
@STATEMENTS@
function f(df) return {} end
