-- Poisons builtins, then fails: the failure must not leave the poison behind.
function f(df)
  string.format = nil
  ipairs = nil
  df.close[1] = 0/0
  error("failed on purpose after tampering", 0)
end
