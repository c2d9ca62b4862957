-- __concat that never returns.
function f(df)
  local a = setmetatable({}, {__concat = function(a, b) while true do end end})
  return a .. "x"
end
