-- goto a label that does not exist.
function f(df) goto nowhere return {} end
