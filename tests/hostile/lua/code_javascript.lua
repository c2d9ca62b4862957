// JavaScript, not Lua.
function f(df) { return []; }
