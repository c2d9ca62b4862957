-- Changes the string library through the string metatable's __index
-- (which is the string table), and returns normally.
function f(df)
  local lib = ("").format and string
  lib.format = function() return "pwned" end
  lib.rep = nil
  lib.sub = function() return "" end
  return {}
end
