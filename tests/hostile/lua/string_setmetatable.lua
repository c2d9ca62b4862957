-- setmetatable on a string.
function f(df) setmetatable("", {__index = function() return 1 end}) return {} end
