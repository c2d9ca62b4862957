# Catches its MemoryError and returns as if nothing happened: a caught
# memory error still ends the job at the memory limit, as for Lua.
def strategy(df):
    try:
        grow = []
        while True:
            grow.append([0] * 1000)
    except MemoryError:
        grow = None
    return []
