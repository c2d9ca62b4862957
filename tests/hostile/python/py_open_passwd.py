# Reads /etc/passwd: outside Python's folders (the guard names it; Landlock
# would refuse it anyway).
def strategy(df):
    with open('/etc/passwd') as f:
        return [{"ticker": "SYN0001", "date": "2020-01-02", "text": f.read()}]
