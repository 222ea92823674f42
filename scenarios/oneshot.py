"""One HTTP/1.1 request per connection, the client's side closed as soon as the request is sent.

gunicorn's sync worker closes every connection after its response, then waits (in poll(), up to
2 s) for the client's FIN before it takes the next one. A client that closes only after reading
the response makes the worker sleep and wake once per request, so the server's CPU per request
depends on how fast the client is: about one context switch per request under a Python client,
0.15 under wrk. Half-closing right after the request means the FIN is already there when the
worker looks: 0.01 switches per request, and the server's cost is its own.

Sockets are gevent's, so many users share one generator process."""
from urllib.parse import urlsplit

from gevent import socket

MAX_RESPONSE = 64 * 1024 * 1024


class BadResponse(Exception):
    """The server's answer is not a whole HTTP response."""


def parse(data):
    """The status code of a whole response in `data`; BadResponse if it is cut short or malformed."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise BadResponse(f"no end of headers in {len(data)} bytes")
    lines = head.split(b"\r\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"bad status line {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        if not body.endswith(b"0\r\n\r\n"):
            raise BadResponse("chunked body without its last chunk")
    elif b"content-length" in headers:
        expected = int(headers[b"content-length"])
        if len(body) != expected:
            raise BadResponse(f"body of {len(body)} bytes, Content-Length {expected}")
    return int(parts[1])


class OneShotClient:
    """GETs to one server. Its address is resolved once: each request is a new connection, and
    gevent's resolver hands every lookup to a thread. Request bytes are built once per path."""

    def __init__(self, url, timeout=30.0):
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 80
        self.family, _, _, _, self.address = socket.getaddrinfo(host, port, 0,
                                                                socket.SOCK_STREAM)[0]
        self.host = f"{host}:{port}".encode()
        self.timeout = timeout
        self.requests = {}

    def request_bytes(self, path):
        found = self.requests.get(path)
        if found is None:
            found = self.requests[path] = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: "
                                           + self.host + b"\r\nConnection: close\r\n\r\n")
        return found

    def get(self, path):
        """The status code; raises BadResponse or OSError (timeouts included)."""
        request = self.request_bytes(path)
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(self.address)
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            chunks, size = [], 0
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE:
                    raise BadResponse(f"response over {MAX_RESPONSE} bytes")
        finally:
            sock.close()
        return parse(b"".join(chunks))
