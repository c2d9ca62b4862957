-- Returns a string instead of a list.
function f(df) return "instances" end
