-- A conversion width beyond Lua's limit.
function f(df) return {string.format("%" .. string.rep("9", 100) .. "d", 1)} end
