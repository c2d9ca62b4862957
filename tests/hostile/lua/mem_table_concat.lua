-- table.concat of a thousand 1 MB strings.
function f(df)
  local parts = {}
  local piece = string.rep("y", 1e6)
  for i = 1, 1000 do parts[i] = piece end
  return {table.concat(parts)}
end
