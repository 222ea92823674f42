"""The keep-alive load client: one persistent connection per user and server, responses framed
by Content-Length or chunked encoding, the server's closes counted and replaced, and the trial
flagged when a server closes what it should keep. Its parser and policy in-process on scripted
sockets; real sockets and real gunicorn (gthread keeps connections, sync closes each) in the
generator's own process or a child of their own, where gevent comes first."""
import subprocess
import sys
from dataclasses import dataclass

import pytest

from harness.infra.serve import Server, ServeConfig
from harness.paths import ROOT
from harness.run.alternate import AlternatingLoad
from harness.run.records import SERVER_CLOSED_SHARE, keepalive_flags, record_for
from scenarios.keepalive import Closed, KeepAliveClient
from scenarios.oneshot import BadResponse, chunked_end, content_length
from tests.test_oneshot import run_against

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"


class Scripted:
    """A connection whose server sends `replies` (a list of byte strings, one per recv; an
    exception instance is raised instead) and then ends the stream."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.sent = []
        self.closed = False

    def sendall(self, data):
        self.sent.append(data)

    def recv(self, _):
        reply = self.replies.pop(0) if self.replies else b""
        if isinstance(reply, Exception):
            raise reply
        return reply

    def close(self):
        self.closed = True


def scripted_client(*connections):
    """A KeepAliveClient whose connections are `connections`, in turn (no real socket)."""
    client = KeepAliveClient.__new__(KeepAliveClient)
    client.host, client.timeout, client.requests = b"127.0.0.1:1", 1.0, {}
    client.sock, client.opened, client.reconnects, client.retries = None, 0, 0, 0
    queue = list(connections)
    client.connect = lambda: queue.pop(0)
    return client


def counts(client):
    return client.opened, client.reconnects, client.retries


def test_chunked_framing_finds_the_end_of_the_body():
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    assert chunked_end(body, 0) == len(body)
    assert chunked_end(body + b"HTTP/1.1", 0) == len(body)       # the next response is not its
    assert chunked_end(b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", 0) == 33
    for cut in (1, 3, 8, 10, len(body) - 1):
        assert chunked_end(body[:cut], 0) is None                 # not all there yet
    for bad in (b"zz\r\n", b"-5\r\nhello\r\n", b"5\r\nhello!!\r\n", b"\r\n"):
        with pytest.raises(BadResponse):
            chunked_end(bad, 0)


def test_content_length_is_a_number_or_absent():
    assert content_length({b"content-length": b"12"}) == 12
    assert content_length({}) is None
    assert content_length({b"transfer-encoding": b"chunked", b"content-length": b"3"}) is None
    with pytest.raises(BadResponse):
        content_length({b"content-length": b"-1"})


@pytest.mark.parametrize("replies", [
    [OK], [OK[:10], OK[10:30], OK[30:]],                          # in one read or several
    [CHUNKED], [CHUNKED[:50], CHUNKED[50:62], CHUNKED[62:]],
    [b"HTTP/1.1 204 No Content\r\n\r\n"],                       # no body, no length
])
def test_responses_are_read_to_their_end_and_the_connection_kept(replies):
    conn = Scripted(*replies, OK)
    client = scripted_client(conn)
    assert client.get("/x") in (200, 204)
    assert client.get("/x") == 200                               # same connection again
    assert conn.sent == [b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"] * 2
    assert counts(client) == (1, 0, 0) and not conn.closed


@pytest.mark.parametrize("replies, why", [
    ([OK[:-2]], "body of 3 bytes, Content-Length 5"),
    ([CHUNKED[:-5]], "chunked body without its last chunk"),
    ([OK[:20]], "no end of headers"),
    ([OK[:-2], ConnectionResetError()], "body of 3 bytes"),
    ([OK + b"extra"], "5 bytes after the response"),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello"], "bad Content-Length"),
])
def test_a_truncated_or_malformed_response_fails_and_drops_the_connection(replies, why):
    conn = Scripted(*replies)
    client = scripted_client(conn)
    with pytest.raises(BadResponse, match=why):
        client.get("/x")
    assert conn.closed and client.sock is None
    assert counts(client) == (1, 1, 0)


def test_connection_close_and_a_body_to_the_close_end_the_connection():
    http10 = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    to_close = b"HTTP/1.1 200 OK\r\n\r\nhello, until the close"
    conns = [Scripted(CLOSE), Scripted(http10), Scripted(to_close), Scripted(OK, OK)]
    client = scripted_client(*conns)
    assert [client.get("/x") for _ in range(5)] == [200] * 5
    assert all(c.closed for c in conns[:3]) and not conns[3].closed
    assert counts(client) == (4, 3, 0)


def test_a_connection_the_server_closed_while_idle_is_retried_once():
    """EOF or reset before a byte of the answer on a reused connection: the request never got
    to the app, so it goes again on a new one, counted; on a new connection it is a failure."""
    stale = Scripted(OK)  # answers once, then its stream ends
    client = scripted_client(stale, Scripted(OK), Scripted(ConnectionResetError()))
    assert client.get("/x") == 200
    assert client.get("/x") == 200                               # EOF found, retried
    assert counts(client) == (2, 1, 1) and stale.closed
    client = scripted_client(Scripted(OK, ConnectionResetError()), Scripted(b""))
    assert client.get("/x") == 200
    with pytest.raises(Closed):                                  # the retry failed too
        client.get("/x")
    assert counts(client) == (2, 2, 1)


def test_the_flag_fires_above_one_percent_of_requests_reconnecting():
    def slice_(requests, reconnects):
        return {"requests": requests, "connections": reconnects + 16, "reconnects": reconnects,
                "retries": 0}
    assert keepalive_flags(slice_(10_000, 100)) == []
    assert keepalive_flags(slice_(10_000, 101)) == ["server_closed_keepalive"]
    assert keepalive_flags({"requests": 10_000}) == []           # one-shot: never
    assert SERVER_CLOSED_SHARE == 0.01


@dataclass
class Spec:
    target: str = "baseline"


def test_the_record_carries_the_connection_figures_of_keep_alive_trials_only():
    from harness import histogram
    server = type("S", (), {"proc": type("P", (), {"pid": 1})()})()
    sample = {"cpu_s": 1.0, "sys_s": 0.1, "rss_mb": {1: 30.0, 2: 40.0}, "vanished": [],
              "sampler_cpu_s": 0.001}
    oneshot = {"requests": 1000, "errors": 0, "elapsed_s": 1.0, "generator_cpu_pct": 50.0,
               "histogram": histogram.encode(histogram.new()), "locust": None}
    record, _ = record_for(Spec(), server, sample, oneshot, None)
    assert "connections" not in record and "keepalive" not in record and record["flags"] == []
    kept = {**oneshot, "connections": 16, "reconnects": 0, "retries": 0}
    record, _ = record_for(Spec(), server, sample, kept, None)
    assert (record["keepalive"], record["connections"], record["reconnects"], record["retries"],
            record["requests_per_connection"]) == (True, 16, 0, 0, 62.5)
    record, _ = record_for(Spec(), server, sample, {**kept, "reconnects": 984}, None)
    assert record["flags"] == ["server_closed_keepalive"]


def test_keepalive_needs_the_alternating_generator():
    """(In a child: the generator module patches the process for gevent on import.)"""
    done = subprocess.run([sys.executable, "-m", "harness.run.loadgen", "--host",
                           "http://127.0.0.1:1", "--path", "/", "--keepalive"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "--keepalive only with --alternate" in done.stderr


def against(close_after, client):
    """`client` (lines using `client`, a KeepAliveClient, and `accepted`, the connections the
    server took) against a server answering `close_after` requests per connection (0: all
    that come) before it closes it; test_oneshot's harness (a child process, a server thread)."""
    answer = [  # each connection in a thread of its own, so that a kept one blocks no other
        "accepted = []",
        "def answer(conn):",
        "    served = 0",
        "    while data := conn.recv(4096):",
        "        served += data.count(b'\\r\\n\\r\\n')",
        "        conn.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')",
        f"        if {close_after} and served >= {close_after}:",
        "            break",
        "    conn.close()",
        "from scenarios.keepalive import KeepAliveClient",
        "client = KeepAliveClient(f'http://127.0.0.1:{listener.getsockname()[1]}', timeout=5)"]
    serve = ["while True:",
             "    conn, _ = listener.accept()",
             "    accepted.append(conn)",
             "    threading.Thread(target=answer, args=(conn,), daemon=True).start()"]
    return run_against(serve, answer + client).strip()


def test_n_requests_on_one_connection():
    out = against(0, [
        "statuses = {client.get('/x') for _ in range(200)}",
        "print(statuses, len(accepted), client.opened, client.reconnects, client.retries)"])
    assert out == "{200} 1 1 0 0"


def test_a_server_closing_after_every_response_costs_a_reconnect_each():
    """The client only learns at its next request that the connection is gone (no
    `Connection: close` here): each is found closed and retried, counted."""
    out = against(1, [
        "statuses = {client.get('/x') for _ in range(50)}",
        "print(statuses, len(accepted), client.opened, client.reconnects, client.retries)"])
    assert out == "{200} 50 50 49 49"
    assert keepalive_flags({"requests": 50, "connections": 50, "reconnects": 49}) \
        == ["server_closed_keepalive"]


@pytest.fixture(scope="module")
def gthread_and_sync(db_url):
    cfgs = [ServeConfig(app="baseline", db_url=db_url, workers=1, worker_class=worker_class,
                        threads=4) for worker_class in ("gthread", "sync")]
    servers = [Server(cfg).start() for cfg in cfgs]
    yield servers
    for server in servers:
        server.stop()


def keepalive_load(urls, users):
    load = AlternatingLoad(urls, "/json", users)
    load.args.append("--keepalive")
    return load


def test_real_gthread_keeps_one_connection_per_user_and_slice(gthread_and_sync):
    """Closed loop, 4 users: a connection serves hundreds of requests, none is lost; each slice
    opens its own (the last one's were hung up), so the second opens 4 again."""
    with keepalive_load([s.url for s in gthread_and_sync], 4) as load:
        load.ready()
        results = [load.slice(0, 1.0), load.slice(1, 0.3), load.slice(0, 1.0)]
    for result in results[0], results[2]:
        assert result["errors"] == 0 and result["requests"] > 200, result
        assert result["connections"] == 4 and result["reconnects"] == result["retries"] == 0
        assert result["requests"] / result["connections"] >= 50
        assert keepalive_flags(result) == []


def test_real_sync_with_the_keepalive_client_reconnects_every_request(gthread_and_sync):
    """The sync worker says `Connection: close` on every response: still no error, one
    connection and one reconnect per request, and the flag fires. The default client is the
    one-shot one, whose slices report no connection figures."""
    sync = gthread_and_sync[1]
    with keepalive_load([sync.url], 4) as load:
        load.ready()
        result = load.slice(0, 0.5)
    assert result["errors"] == 0 and result["requests"] > 50, result
    assert result["connections"] == result["reconnects"] == result["requests"]
    assert result["retries"] == 0
    assert keepalive_flags(result) == ["server_closed_keepalive"]
    with AlternatingLoad([sync.url], "/json", 4) as load:
        load.ready()
        result = load.slice(0, 0.5)
    assert result["errors"] == 0 and result["requests"] > 50
    assert "connections" not in result and "reconnects" not in result
