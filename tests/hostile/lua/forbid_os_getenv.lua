-- Reads the environment.
function f(df) return {{ticker = "SYN0001", date = "2020-01-02", home = os.getenv("HOME")}} end
