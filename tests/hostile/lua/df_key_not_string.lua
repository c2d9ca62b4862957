-- Indexes df with a table.
function f(df) return {df[{}]} end
