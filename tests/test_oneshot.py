"""The lean users' HTTP client: one request per connection, half-closed after sending."""
import subprocess
import sys

import pytest

from harness.paths import ROOT
from scenarios.oneshot import BadResponse, parse

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"


def test_parse_takes_the_status_of_a_whole_response():
    assert parse(OK + b"hello") == 200
    assert parse(b"HTTP/1.0 404 NOT FOUND\r\ncontent-length: 0\r\n\r\n") == 404
    assert parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") == 200
    assert parse(b"HTTP/1.1 204 No Content\r\n\r\n") == 204   # no length: the close ends it


@pytest.mark.parametrize("data", [
    OK + b"hel",                                             # cut short
    OK + b"hello, more",                                     # longer than it says
    OK[:20],                                                 # no end of headers
    b"SSH-2.0-OpenSSH\r\n\r\n",                              # not HTTP
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
])
def test_parse_refuses_what_is_not_a_whole_response(data):
    with pytest.raises(BadResponse):
        parse(data)


def run_against(serve, client):
    """`client` (code using `client`, an OneShotClient) against a socket server running `serve`
    (the body of `serve(listener)`) in a thread; its stdout. In a child process: gevent's sockets
    stay out of pytest's."""
    code = ("import socket, threading\n"
            "from scenarios.oneshot import OneShotClient, BadResponse\n"
            "listener = socket.create_server(('127.0.0.1', 0))\n"
            "def serve(listener):\n" + "".join(f"    {line}\n" for line in serve) +
            "threading.Thread(target=serve, args=(listener,), daemon=True).start()\n"
            "client = OneShotClient(f'http://127.0.0.1:{listener.getsockname()[1]}', timeout=5)\n"
            + "".join(f"{line}\n" for line in client))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-800:]
    return done.stdout


def test_the_client_half_closes_before_it_reads():
    """A server that answers only once it has read the client's end of stream: a client that
    waited for the response before closing would time out here."""
    out = run_against([
        "for _ in range(3):",
        "    conn, _ = listener.accept()",
        "    data = b''",
        "    while chunk := conn.recv(4096):",
        "        data += chunk",
        "    status = b'200 OK' if data.startswith(b'GET /x HTTP/1.1\\r\\n') else b'400 Bad'",
        "    conn.sendall(b'HTTP/1.1 ' + status + b'\\r\\nContent-Length: 2\\r\\n\\r\\nok')",
        "    conn.close()"], ["print([client.get('/x') for _ in range(3)])"])
    assert out.split("\n")[0] == "[200, 200, 200]"


def test_a_server_that_cuts_the_response_short_is_a_failure():
    out = run_against([
        "conn, _ = listener.accept()",
        "conn.recv(4096)",
        "conn.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 100\\r\\n\\r\\nshort')",
        "conn.close()"], [
        "try:",
        "    client.get('/x')",
        "except BadResponse as exc:",
        "    print('refused', exc)"])
    assert out.startswith("refused body of 5 bytes, Content-Length 100"), out
