# Recursion without end, at Python's default limit.
def strategy(df):
    def deeper(n):
        return deeper(n + 1) + 1
    return deeper(0)
