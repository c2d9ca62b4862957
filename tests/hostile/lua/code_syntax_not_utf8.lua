-- A syntax error whose message quotes a string with bytes that are not UTF-8.
x = 1 "\255\254"
function f(df) return {} end
