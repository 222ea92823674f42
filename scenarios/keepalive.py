"""HTTP/1.1 requests on one persistent connection per user and server, for the deployments that
keep connections alive (gunicorn gthread, granian, uwsgi, nginx). The one-shot client
(scenarios/oneshot.py) stays the one for gunicorn's sync worker, which closes every connection.

A response ends where its framing says (Content-Length, or the chunked body's last chunk), read
with the one-shot client's parser; a body cut short is a failure. A connection the server ends
(`Connection: close`, HTTP/1.0 without keep-alive, a body delimited by the close, its close or
reset) is replaced at the next request and counted in `reconnects`. A request whose reused
connection turns out closed before a byte of its answer came (the server closed it while idle:
the request never reached the application) is sent again once on a new connection, counted in
`retries`; a second failure is the request's. Any other failure is the request's too, and the
connection, whose state is then unknown, is dropped and counted as a reconnect."""
from gevent import socket

from scenarios.oneshot import (MAX_RESPONSE, BadResponse, OneShotClient, chunked_end,
                               content_length, parse_head)

NO_BODY = (204, 304)  # answers to a GET that never have a body (RFC 9112 6.3)
RECV = 65536


class Closed(BadResponse):
    """The server closed the connection before sending a byte of the response."""


class KeepAliveClient(OneShotClient):
    """GETs to one server on one connection, kept open until the server ends it or `close()`.
    Address resolved once, request bytes built once per path (OneShotClient's). Counters, read
    by the slice that owns the client's server: `opened` connections, `reconnects` (connections
    lost before the client was done with them), `retries` (requests sent again on a new one)."""

    connection_header = b""  # HTTP/1.1: persistent unless either side says otherwise

    def __init__(self, url, timeout=30.0):
        super().__init__(url, timeout)
        self.sock = None
        self.opened = self.reconnects = self.retries = 0

    def get(self, path):
        """The status code; raises BadResponse or OSError (timeouts included)."""
        request = self.request_bytes(path)
        reused = self.sock is not None
        if not reused:
            self.open()
        try:
            return self.exchange(request)
        except Closed:
            self.lost()
            if not reused:
                raise
        except BaseException:
            self.lost()
            raise
        self.retries += 1  # the server closed it while idle: the request never reached it
        self.open()
        try:
            return self.exchange(request)
        except BaseException:
            self.lost()
            raise

    def open(self):
        self.sock = self.connect()
        self.opened += 1

    def lost(self):
        """The connection ended before the client was done with it."""
        self.reconnects += 1
        self.close()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request):
        """Send one request and read its whole response; the status code."""
        sock = self.sock
        try:
            sock.sendall(request)
            data = sock.recv(RECV)
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise Closed(repr(exc)) from None
        if not data:
            raise Closed("connection closed before the response")
        end = data.find(b"\r\n\r\n")
        while end < 0:
            seen = len(data)
            data = self.more(data, "no end of headers")
            end = data.find(b"\r\n\r\n", max(0, seen - 3))
        status, headers, http11 = parse_head(data[:end])
        start = end + 4
        connection = headers.get(b"connection", b"").lower()
        keep = b"close" not in connection if http11 else b"keep-alive" in connection
        chunked = headers.get(b"transfer-encoding", b"").lower() == b"chunked"
        length = None if chunked else content_length(headers)
        if status in NO_BODY:
            length = 0
        if length is not None:
            while len(data) < start + length:
                data = self.more(data, f"body of {len(data) - start} bytes, Content-Length {length}")
            stop = start + length
        elif chunked:
            while (stop := chunked_end(data, start)) is None:
                data = self.more(data, "chunked body without its last chunk")
        else:  # neither: the body is what comes until the server closes
            while chunk := sock.recv(RECV):
                data += chunk
                if len(data) > MAX_RESPONSE:
                    raise BadResponse(f"response over {MAX_RESPONSE} bytes")
            stop, keep = len(data), False
        if len(data) > stop:
            raise BadResponse(f"{len(data) - stop} bytes after the response")
        if not keep:
            self.lost()
        return status

    def more(self, data, cut_short):
        """data and the next bytes; BadResponse(cut_short) if the server closed instead."""
        try:
            chunk = self.sock.recv(RECV)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise BadResponse(cut_short)
        if len(data) + len(chunk) > MAX_RESPONSE:
            raise BadResponse(f"response over {MAX_RESPONSE} bytes")
        return data + chunk
