-- Returns nothing.
function f(df) local out = {} end
