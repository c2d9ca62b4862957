-- Endless C work with Lua callbacks: gsub over a big string.rep, again and again.
function f(df)
  local s = string.rep("a", 100000)
  while true do s = s:gsub("a", function() return "a" end) end
end
