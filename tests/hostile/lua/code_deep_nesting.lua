-- Parentheses nested 100,000 deep.
x = @OPEN@1@CLOSE@
function f(df) return {} end
