-- The native kernels, called for ever.
function f(df)
  local c = df.close
  while true do c = sma(c, 2) end
end
