-- The strategy is named like a kernel (sma): it replaces the builtin.
function sma(df)
  return {}
end
