-- __newindex that never returns.
function f(df)
  local t = setmetatable({}, {__newindex = function(t, k, v) while true do end end})
  t.x = 1
end
