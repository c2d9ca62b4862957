-- Calls df's __index directly with something that is not a table.
function f(df)
  local index = getmetatable(df).__index
  return index(0, "close")
end
