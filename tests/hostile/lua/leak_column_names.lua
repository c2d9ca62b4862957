-- Reads one column 20,000 times, dropping it each time: the columns the job
-- used (reported in data_shape, and used to warm the worker's state) must
-- list it once, not once per read.
function f(df)
  for i = 1, 20000 do
    local _ = df.sma_5
    df.sma_5 = nil
  end
  return {}
end
