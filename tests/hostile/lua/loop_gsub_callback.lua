-- A busy loop in a string.gsub callback (Lua called from C).
function f(df)
  return (string.gsub("abc", ".", function(c) while true do end end))
end
