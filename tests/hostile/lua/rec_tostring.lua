-- __tostring that calls tostring on itself.
function f(df)
  local t = {}
  setmetatable(t, {__tostring = function(x) return tostring(x) end})
  return tostring(t)
end
