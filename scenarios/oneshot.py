"""One HTTP/1.1 request per connection, the client's side closed as soon as the request is sent.

gunicorn's sync worker closes every connection after its response, then waits (in poll(), up to
2 s) for the client's FIN before it takes the next one. A client that closes only after reading
the response makes the worker sleep and wake once per request, so the server's CPU per request
depends on how fast the client is: about one context switch per request under a Python client,
0.15 under wrk. Half-closing right after the request means the FIN is already there when the
worker looks: 0.01 switches per request, and the server's cost is its own.

The response parser here is shared with the persistent-connection client (scenarios/keepalive.py):
one reading of a response's head and framing for both. Sockets are gevent's, so many users share
one generator process."""
from urllib.parse import urlsplit

from gevent import socket

MAX_RESPONSE = 64 * 1024 * 1024
HEX = b"0123456789abcdefABCDEF"


class BadResponse(Exception):
    """The server's answer is not a whole HTTP response."""


def parse_head(head):
    """(status, headers with lower-case names, HTTP/1.1 or later?) of the bytes before the blank
    line that ends a response's head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"bad status line {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, parts[0] != b"HTTP/1.0"


def content_length(headers):
    """The body's length the head announces, None when it announces none (chunked or until
    the close); BadResponse for a length that is not one."""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return None
    value = headers.get(b"content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise BadResponse(f"bad Content-Length {value[:40]!r}")
    length = int(value)
    if length > MAX_RESPONSE:
        raise BadResponse(f"Content-Length {length} over {MAX_RESPONSE} bytes")
    return length


def chunked_end(data, pos):
    """Where the chunked body starting at data[pos] ends (past its last chunk and trailers), or
    None while it is not all there; BadResponse for a malformed chunk."""
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = data[pos:eol].split(b";", 1)[0].strip()
        if not size or size.strip(HEX):
            raise BadResponse(f"bad chunk size {data[pos:eol][:40]!r}")
        size = int(size, 16)
        if size == 0:
            end = data.find(b"\r\n\r\n", eol)  # the empty line after the trailers, if any
            return None if end < 0 else end + 4
        pos = eol + 2 + size
        if len(data) < pos + 2:
            return None
        if data[pos:pos + 2] != b"\r\n":
            raise BadResponse("chunk longer than its size")
        pos += 2


def parse(data):
    """The status code of a whole response in `data` (all the connection carried until the
    server closed it); BadResponse if it is cut short or malformed."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise BadResponse(f"no end of headers in {len(data)} bytes")
    status, headers, _ = parse_head(head)
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        if chunked_end(body, 0) != len(body):
            raise BadResponse("chunked body without its last chunk")
    else:
        expected = content_length(headers)
        if expected is not None and len(body) != expected:
            raise BadResponse(f"body of {len(body)} bytes, Content-Length {expected}")
    return status


class OneShotClient:
    """GETs to one server. Its address is resolved once: each request is a new connection, and
    gevent's resolver hands every lookup to a thread. Request bytes are built once per path."""

    connection_header = b"Connection: close\r\n"

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
                                           + self.host + b"\r\n" + self.connection_header
                                           + b"\r\n")
        return found

    def connect(self):
        """A new connection to the server, Nagle off (requests are single small writes)."""
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(self.address)
        except BaseException:
            sock.close()
            raise
        return sock

    def get(self, path):
        """The status code; raises BadResponse or OSError (timeouts included)."""
        request = self.request_bytes(path)
        sock = self.connect()
        try:
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
