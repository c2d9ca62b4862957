-- A strategy whose _ENV is an empty table: no globals at all.
function f(df)
  local _ENV = {}
  return print(1)
end
