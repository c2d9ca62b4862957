-- error() with bytes that are not UTF-8.
function f(df) error("bad bytes: \255\254 end") end
