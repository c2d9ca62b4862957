-- __tostring that never returns, reached through print.
function f(df)
  print(setmetatable({}, {__tostring = function() while true do end end}))
end
