-- Instances that are arrays, not tables of fields.
function f(df) return {{df.ticker[1], df.date[1]}} end
