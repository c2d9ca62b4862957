-- os.date with a conversion strftime does not have.
function f(df) return {os.date("%Ez")} end
