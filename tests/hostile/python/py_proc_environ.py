# Reads its own environment from /proc (the worker's Redis URL would be
# there if the process had ever held it).
def strategy(df):
    with open('/proc/self/environ', 'rb') as f:
        return [{"ticker": "SYN0001", "date": "2020-01-02", "env": f.read().decode()}]
