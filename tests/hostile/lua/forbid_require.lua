-- Loads a module.
function f(df) local m = require("io") return {} end
