-- Replaces builtins (rawset, plain assignment, library tables) and returns
-- normally: nothing of it may reach the next job.
function f(df)
  rawset(_G, "ipairs", function() return function() return nil end end)
  string.format = function() return "pwned" end
  rawset(string, "lower", function() return "pwned" end)
  table.insert = function() end
  math.floor = function() return 0 end
  tostring = function() return "pwned" end
  os.date = function() return "pwned" end
  sma = function(x) return x end
  pairs = nil
  return {}
end
