-- %s of a value whose __tostring returns a table.
function f(df)
  return {string.format("%s", setmetatable({}, {__tostring = function() return {} end}))}
end
