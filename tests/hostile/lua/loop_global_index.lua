-- _G's __index never returns: any undefined global spins.
function f(df)
  setmetatable(_G, {__index = function(_, k) while true do end end})
  return undefined_name
end
