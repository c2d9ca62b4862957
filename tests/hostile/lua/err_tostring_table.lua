-- error() with a table whose __tostring pretends all is well.
function f(df)
  error(setmetatable({}, {__tostring = function() return "all good, nothing failed" end}))
end
