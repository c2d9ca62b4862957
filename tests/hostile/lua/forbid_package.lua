-- package.loaded, to reach the real io.
function f(df) local io2 = package.loaded.io return {} end
