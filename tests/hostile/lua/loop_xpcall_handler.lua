-- The message handler of xpcall never returns.
function f(df)
  while true do
    xpcall(function() error("boom") end, function(m) while true do end end)
  end
end
