-- __index that indexes the same table: recursion through metamethods.
function f(df)
  local t = {}
  setmetatable(t, {__index = function(t, k) return t[k] end})
  return t.x
end
