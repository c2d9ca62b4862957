# Reads raw memory through ctypes without loading a library (ctypes is
# already imported by the warm interpreter's libraries).
import ctypes


def strategy(df):
    return [{"ticker": "SYN0001", "date": "2020-01-02", "x": ctypes.string_at(id(df), 64).hex()}]
