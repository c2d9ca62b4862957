# Connects to the test's own Redis (its URL is put in by run.py) and to
# 127.0.0.1:6379, and would wipe them.
import socket

URL = "@REDIS_URL@"


def strategy(df):
    if URL.startswith("unix://"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(URL[len("unix://"):])
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", int(URL.rsplit(":", 1)[1].split("/")[0])))
    s.sendall(b"FLUSHALL\r\n")
    s = socket.create_connection(("127.0.0.1", 6379))
    s.sendall(b"FLUSHALL\r\n")
    return []
