# Loops forever.
def strategy(df):
    while True:
        pass
