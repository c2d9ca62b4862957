# Writes a file (the guard names it; the seccomp filter traps an open for
# writing anyway).
def strategy(df):
    with open('/tmp/tickq-hostile-py-written', 'w') as f:
        f.write('pwned')
    return []
