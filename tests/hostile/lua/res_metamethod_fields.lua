-- An instance whose fields exist only through __index: results are read raw.
function f(df)
  return {setmetatable({}, {__index = function(_, k) return k == "ticker" and df.ticker[1] or df.date[1] end})}
end
