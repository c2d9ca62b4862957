-- __len that never returns.
function f(df)
  local a = setmetatable({}, {__len = function(a) while true do end end})
  return #a
end
