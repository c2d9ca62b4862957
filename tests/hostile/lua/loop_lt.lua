-- __lt that never returns.
function f(df)
  local mt = {__lt = function(a, b) while true do end end}
  local a, b = setmetatable({}, mt), setmetatable({}, mt)
  return a < b
end
