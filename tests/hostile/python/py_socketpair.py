# Makes a socket past the guard (_socket.socketpair raises no audit event):
# the kernel filter traps it.
import _socket


def strategy(df):
    a, b = _socket.socketpair()
    return []
