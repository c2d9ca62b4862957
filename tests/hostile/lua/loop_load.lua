-- A busy loop in a chunk made with load.
function f(df)
  load("while true do end")()
end
