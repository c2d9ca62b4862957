-- Asks for ten million return values.
function f(df)
  return {table.unpack({}, 1, 1e7)}
end
