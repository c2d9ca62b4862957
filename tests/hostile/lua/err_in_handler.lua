-- An error inside the error handler, passed on.
function f(df)
  local ok, e = xpcall(function() error("first") end, function(m) error("second") end)
  error(e, 0)
end
