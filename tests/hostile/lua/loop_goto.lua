-- An endless loop made of goto.
function f(df)
  ::again::
  goto again
end
