-- Poisons _G with a metatable and new globals, and returns normally.
function f(df)
  healthy_cache = {1, 2, 3}
  setmetatable(_G, {__index = function(_, k) return "pwned" end,
                    __newindex = function() error("pwned") end})
  return {}
end
