-- _ENV = nil before the function is defined.
_ENV = nil
function f(df) return {} end
