-- More locals than a function may have.
function f(df)
  @LOCALS@
  return {}
end
