# Loads libc through ctypes and calls system().
def strategy(df):
    ctypes = __import__('ctypes')
    libc = ctypes.CDLL(None)
    libc.system(b'id')
    return []
