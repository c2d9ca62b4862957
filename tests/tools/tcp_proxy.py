"""tcp_proxy.py — a controllable TCP proxy for fault tests: it sits between
tickq and a redis-server's TCP port and can stall, hold and drop the traffic,
so a test makes a network fault happen at an exact point instead of by luck.

Standard library only (selectors, one background thread). Every connection the
proxy accepts gets its own connection to the upstream server. The two
directions of each connection are byte streams the proxy models as a network
path: bytes read from one side are queued and written to the other side, in
order, the end of the stream (the sender's close) included. Holding a
direction keeps its bytes and its end queued; nothing is lost until drop() or
close().

    proxy = TcpProxy(redis_port)
    url = proxy.url(db=0)            # redis://127.0.0.1:PORT/0
    proxy.stall(); proxy.resume()    # every connection, both ways
    proxy.drop()                     # close every current connection
    proxy.connections()              # client connections still open

Precise control of one message (client to server):

    hold = proxy.hold_next(b"tickq_p1_claim")
    hold.wait(10)                    # True once a chunk containing the needle came
    hold.conn                        # the id of the connection it came on
    hold.release()                   # forward what was held, then go on normally
    reply = hold.flush_and_close()   # forward what was held, end the connection

hold_next arms a trap that catches the next chunk the proxy reads from a
client whose bytes contain the needle (on any connection; an armed trap
catches only chunks read after it was armed). From that chunk on, the
connection's client-to-server direction is held: the chunk, every later byte
and the client's close stay queued, while server-to-client bytes still flow.
A chunk is what one read returned: bytes the client sent in the same write
before the needle are held with it (a needle split across two reads is not
seen). Traps armed together catch chunks in the order they were armed.

flush_and_close() writes what was held to the server, then closes the
connection's client side, half-closes the server side (the server reads the
held bytes, then the end of the stream, so it runs every held command before
it closes), waits for the server to close, and returns the bytes the server
answered meanwhile (they go to nobody else). This is the "stale call" of a
stalled network: the client gave up, the server runs the call anyway.

stall() holds both directions of every connection, current and new, until
resume(); resume() forwards what was held and lets traffic flow except on
directions a trap holds (release those through their Hold). drop() closes
both sides of every current connection and discards what was held; traps
armed but not yet caught stay armed.
"""
import errno
import selectors
import socket
import threading

__all__ = ["TcpProxy", "Hold"]

_CHUNK = 65536


class _Dir:
    """One direction of a connection: bytes read from src, to be written to dst."""

    def __init__(self, src, dst):
        self.src = src
        self.dst = dst
        self.buf = bytearray()
        self.eof = False        # src ended (close or error): after buf, end dst
        self.done = False       # dst was shut for writing (or is gone)
        self.hold = None        # the Hold that holds this direction, if any
        self.sink = None        # bytearray collecting what dst answered instead (flush_and_close)


class _Conn:
    def __init__(self, cid, client, upstream):
        self.id = cid
        self.client = client
        self.upstream = upstream
        self.c2s = _Dir(client, upstream)
        self.s2c = _Dir(upstream, client)
        self.client_open = True   # the client has not ended its side
        self.closed = False
        self.closed_event = threading.Event()


class Hold:
    """A trap on the client-to-server bytes of one connection (see module doc)."""

    def __init__(self, proxy, needle):
        self._proxy = proxy
        self.needle = bytes(needle)
        self.conn = None            # the connection id, once caught
        self._caught = threading.Event()
        self._conn = None

    def wait(self, timeout=10.0):
        """True once a chunk containing the needle was caught (and held)."""
        return self._caught.wait(timeout)

    def held(self):
        """The bytes held so far (b"" before the trap caught anything)."""
        return self._proxy._call(lambda: bytes(self._conn.c2s.buf) if self._conn else b"")

    def release(self):
        """Forwards what was held and lets the direction flow normally."""
        self._proxy._call(self._release)

    def _release(self):
        if self._conn is not None and self._conn.c2s.hold is self:
            self._conn.c2s.hold = None
        elif self._conn is None and self in self._proxy._traps:
            self._proxy._traps.remove(self)

    def flush_and_close(self, timeout=10.0):
        """Forwards what was held to the server, closes the client side, ends
        the server side after the held bytes and waits (up to timeout seconds)
        for the server to close. Returns what the server answered meanwhile.
        Raises RuntimeError if nothing was caught, TimeoutError if the server
        did not close in time."""
        if not self._caught.is_set():
            raise RuntimeError("flush_and_close: the trap has caught nothing yet")
        conn = self._conn
        sink = bytearray()
        self._proxy._call(lambda: self._proxy._flush_and_close(conn, self, sink))
        if not conn.closed_event.wait(timeout):
            raise TimeoutError(f"the server did not close connection {conn.id} within {timeout}s")
        return self._proxy._call(lambda: bytes(sink))


class TcpProxy:
    """A TCP proxy on 127.0.0.1 (port 0: the kernel picks) to an upstream
    server; it starts listening and forwarding at construction."""

    def __init__(self, upstream_port, upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, int(upstream_port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._lock = threading.Lock()
        self._calls = []
        self._conns = {}
        self._traps = []
        self._stalled = False
        self._next_id = 1
        self._stop = False
        self._registered = {}
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._loop, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()

    # --- public controls ----------------------------------------------------
    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stall(self):
        """Stops forwarding both ways on every current and new connection;
        what arrives meanwhile is held, not lost."""
        self._call(lambda: setattr(self, "_stalled", True))

    def resume(self):
        """Forwards what stall() held and continues normally."""
        self._call(lambda: setattr(self, "_stalled", False))

    def drop(self):
        """Closes both sides of every current connection; held bytes are discarded."""
        self._call(lambda: [self._close_conn(c) for c in list(self._conns.values())])

    def connections(self):
        """The number of client connections whose client has not closed."""
        return self._call(lambda: sum(1 for c in self._conns.values() if c.client_open))

    def hold_next(self, needle):
        """Arms a trap on the next client chunk containing needle; returns its Hold."""
        if not needle:
            raise ValueError("hold_next: the needle must not be empty")
        hold = Hold(self, needle)
        self._call(lambda: self._traps.append(hold))
        return hold

    def close(self):
        """Closes every connection and the listener and stops the thread."""
        if self._thread is None:
            return
        def stop():
            for c in list(self._conns.values()):
                self._close_conn(c)
            self._stop = True
        self._call(stop)
        self._thread.join(10)
        self._thread = None
        self._sel.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the loop thread ------------------------------------------------------
    def _call(self, fn):
        """Runs fn on the loop thread (all state belongs to it); returns its value."""
        if self._thread is None:
            raise RuntimeError("the proxy is closed")
        done = threading.Event()
        box = {}
        def run():
            try:
                box["value"] = fn()
            except BaseException as e:  # handed back to the caller
                box["error"] = e
            done.set()
        with self._lock:
            self._calls.append(run)
        try:
            self._wake_w.send(b"x")
        except BlockingIOError:
            pass
        if not done.wait(30):
            raise RuntimeError("the proxy thread does not answer")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _loop(self):
        while not self._stop:
            self._update_interest()
            for key, events in self._sel.select(timeout=1.0):
                tag = key.data
                if tag == "wake":
                    try:
                        self._wake_r.recv(4096)
                    except BlockingIOError:
                        pass
                    continue
                if tag == "listen":
                    self._accept()
                    continue
                conn, side = tag
                if conn.closed:
                    continue
                if events & selectors.EVENT_READ:
                    self._read(conn, side)
                if not conn.closed and events & selectors.EVENT_WRITE:
                    self._pump(conn)
            with self._lock:
                calls, self._calls = self._calls, []
            for run in calls:
                run()
            for conn in list(self._conns.values()):
                self._pump(conn)

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()  # the client sees the upstream refuse, as without a proxy
                continue
            for s in (client, upstream):
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(self._next_id, client, upstream)
            self._next_id += 1
            self._conns[conn.id] = conn

    def _held(self, d):
        return self._stalled or d.hold is not None

    def _update_interest(self):
        """Registers each open socket for reading (always: bytes are held by
        the proxy, not left in the kernel) and for writing when it has bytes due."""
        want = {}
        for conn in self._conns.values():
            for sock, side, out in ((conn.client, "client", conn.s2c), (conn.upstream, "upstream", conn.c2s)):
                inbound = conn.c2s if side == "client" else conn.s2c
                ev = 0
                if not inbound.eof:
                    ev |= selectors.EVENT_READ
                if out.buf and not out.done and not self._held(out):
                    ev |= selectors.EVENT_WRITE
                if ev:
                    want[sock] = (ev, (conn, side))
        for sock in list(self._registered):
            if sock not in want:
                self._sel.unregister(sock)
                del self._registered[sock]
        for sock, (ev, data) in want.items():
            if sock in self._registered:
                if self._registered[sock] != ev:
                    self._sel.modify(sock, ev, data)
                    self._registered[sock] = ev
            else:
                self._sel.register(sock, ev, data)
                self._registered[sock] = ev

    def _read(self, conn, side):
        d = conn.c2s if side == "client" else conn.s2c
        try:
            data = d.src.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            d.eof = True
            if side == "client":
                conn.client_open = False
            return
        if side == "client" and d.hold is None:
            for trap in self._traps:
                if trap.needle in data:
                    self._traps.remove(trap)
                    trap._conn = conn
                    trap.conn = conn.id
                    d.hold = trap
                    trap._caught.set()
                    break
        if d.sink is not None:
            d.sink += data
        elif side == "upstream" and conn.s2c.done:
            pass  # the client is gone: nobody to tell
        else:
            d.buf += data

    def _pump(self, conn):
        """Writes what is due in both directions, ends directions whose source
        ended, and closes the connection once both directions are over."""
        if conn.closed:
            return
        for d in (conn.c2s, conn.s2c):
            if d.done or self._held(d):
                continue
            while d.buf:
                try:
                    n = d.dst.send(d.buf)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                        break
                    d.buf.clear()
                    d.done = True  # the receiver is gone
                    break
                del d.buf[:n]
            if not d.buf and d.eof and not d.done:
                try:
                    d.dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                d.done = True
        if conn.c2s.eof and conn.s2c.eof and conn.c2s.done and conn.s2c.done:
            self._close_conn(conn)

    def _flush_and_close(self, conn, hold, sink):
        if conn.closed:
            return
        if conn.c2s.hold is hold:
            conn.c2s.hold = None
        if conn.client_open or not conn.s2c.done:
            try:
                conn.client.close()
            except OSError:
                pass
            self._forget(conn.client)
            conn.client_open = False
        conn.c2s.eof = True           # nothing more comes from the client
        conn.s2c.buf.clear()
        conn.s2c.done = True          # nobody to answer to
        conn.s2c.sink = sink          # what the server says from now on
        self._flush_upstream_now(conn)

    def _flush_upstream_now(self, conn):
        """Writes what the client sent to the server and ends that direction;
        an explicit flush goes through even while the proxy is stalled."""
        d = conn.c2s
        while d.buf:
            try:
                n = d.dst.send(d.buf)
            except (BlockingIOError, InterruptedError):
                d.dst.setblocking(True)
                try:
                    n = d.dst.send(d.buf)
                finally:
                    d.dst.setblocking(False)
            except OSError:
                d.buf.clear()
                break
            del d.buf[:n]
        try:
            d.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        d.done = True

    def _forget(self, sock):
        if sock in self._registered:
            self._sel.unregister(sock)
            del self._registered[sock]

    def _close_conn(self, conn):
        if conn.closed:
            return
        conn.closed = True
        conn.client_open = False
        for sock in (conn.client, conn.upstream):
            self._forget(sock)
            try:
                sock.close()
            except OSError:
                pass
        conn.c2s.buf.clear()
        conn.s2c.buf.clear()
        self._conns.pop(conn.id, None)
        conn.closed_event.set()
