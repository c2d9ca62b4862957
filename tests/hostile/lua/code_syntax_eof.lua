-- A function that never ends.
function f(df)
  if df.n > 0 then
    return {}
