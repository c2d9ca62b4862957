-- Reads a column that does not exist.
function f(df) return {df.secret_column} end
