"""Hostile input against the real served apps (gunicorn, one per target for the module):
every target answers alike (same status class; for /queries and /updates the same clamped row
count), as the rule says, and never with a 5xx. Hypothesis draws the input; each property is
bounded in examples, and each request in time."""
import http.client
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness import targets
from harness.infra.serve import Server, ServeConfig

from tests.conftest import TARGETS, target_id

ENDPOINTS = tuple(f"/{name}" for name in targets.ENDPOINTS)  # no query: hostile ones are added


def bounded(examples):
    """No deadline (a request to four servers takes what it takes), few examples: the module
    stays under a minute on two cores."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

REQUEST_LINE_LIMIT = 4094  # gunicorn's --limit-request-line default: longer is 414, for all


@pytest.fixture(scope="module")
def hosts(db_url):
    """(host, port) per target; one sync worker each."""
    running = []
    try:
        for app, variant in TARGETS:
            running.append(Server(ServeConfig(app=app, variant=variant, db_url=db_url)).start())
        yield {target_id((s.cfg.app, s.cfg.variant)): ("127.0.0.1", s.cfg.port) for s in running}
    finally:
        for server in running:
            server.stop()


def ask(hosts, method, path):
    """The same request to every target -> {target: (status, body)}; 10 s at most each."""
    answers = {}
    for name, (host, port) in hosts.items():
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            answers[name] = (resp.status, resp.read())
        finally:
            conn.close()
    return answers


def clamp_rule(pairs):
    """The contract: the first `queries` value counts; missing, empty, non-integer or <1 -> 1,
    >500 -> 500. int() is what every app calls, so 'integer' means what int() accepts."""
    values = [v for k, v in pairs if k == "queries"]
    try:
        n = int(values[0]) if values else 1
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def assert_alike(answers, path):
    classes = {name: status // 100 for name, (status, _) in answers.items()}
    assert 5 not in classes.values(), (path, answers)
    assert len(set(classes.values())) == 1, (path, {n: s for n, (s, _) in answers.items()})


numbers = st.one_of(
    st.integers(-1000, 1000),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 499, 500, 501, 2**31, 2**63, -(2**63)]),
).map(str)
odd_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),   # unicode, digits of any script
    st.text("0123456789", min_size=300, max_size=5000),                 # very long
    st.sampled_from(["", " 7 ", "+3", "-0", "1_0", "0x10", "1e3", "٣", "５", "\x00", "7\n"]),
)
query_values = st.one_of(numbers, odd_values)
query_keys = st.sampled_from(["queries"] * 6 + ["Queries", "queries[]", "q", "queries "])
query_pairs = st.lists(st.tuples(query_keys, query_values), max_size=5)


@bounded(70)
@given(pairs=query_pairs)
@example(pairs=[("queries", "3"), ("queries", "7")])        # repeated: the first counts
@example(pairs=[("queries", ""), ("queries", "7")])         # a blank first value counts too
@example(pairs=[("queries", "9" * 5000)])                   # past gunicorn's request line
def test_queries_alike_and_clamped(hosts, pairs):
    check_rows(hosts, "/queries", pairs)


@bounded(25)
@given(pairs=query_pairs)
@example(pairs=[("queries", "2"), ("queries", "600")])
def test_updates_alike_and_clamped(hosts, pairs):
    check_rows(hosts, "/updates", pairs)


def check_rows(hosts, endpoint, pairs):
    path = endpoint + ("?" + urlencode(pairs) if pairs else "")
    answers = ask(hosts, "GET", path)
    assert_alike(answers, path)
    if len(f"GET {path} HTTP/1.1") > REQUEST_LINE_LIMIT:
        assert {s for s, _ in answers.values()} == {414}, (path[:80], answers.keys())
        return
    expected = clamp_rule(pairs)
    for name, (status, body) in answers.items():
        assert status == 200, (name, path[:200], status)
        rows = json.loads(body)
        assert len(rows) == expected, (name, pairs, len(rows), expected)
        assert len({r["id"] for r in rows}) == expected  # distinct rows, one SELECT each


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_answered_alike(hosts, method, endpoint):
    answers = ask(hosts, method, endpoint)
    assert {status for status, _ in answers.values()} == {200}, answers
    if method == "HEAD":
        assert all(body == b"" for _, body in answers.values())


@pytest.mark.parametrize("endpoint", ["/json", "/db", "/queries?queries=2", "/updates?queries=2"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "BREW"])
def test_other_methods_never_break_the_app(hosts, method, endpoint):
    """No contract says what a GET endpoint does with POST: the frameworks as their users write
    them refuse the unsafe ones (Flask 405, Django's CSRF middleware 403); stripped Django and
    the bare WSGI app have no such layer and serve them (a known, reported difference)."""
    answers = ask(hosts, method, endpoint)
    assert all(status < 500 for status, _ in answers.values()), answers
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        assert answers["flask"][0] == 405 and answers["django"][0] == 403, answers


segments = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~%;:@!$&'()*+,=/", max_size=30)
prefixes = st.sampled_from(["", *ENDPOINTS, "/nope", "/json/", "/.", "/%2e%2e", "/%00", "/%ff"])


@bounded(80)
@given(prefix=prefixes, rest=segments)
@example(prefix="/json", rest="/")
@example(prefix="/%2e%2e", rest="/json")
@example(prefix="/queries", rest=";queries=3")
def test_odd_paths_alike(hosts, prefix, rest):
    """Paths off the contract. Left out, because the frameworks route them differently by
    design: `//` (Werkzeug merges slashes, so Flask serves //json), and the routes that only
    the frameworks have (/admin, /form, Flask's /static)."""
    path = "/" + (prefix + rest).lstrip("/")
    if "//" in path or path.split("/")[1].split("?")[0].startswith(("admin", "form", "static")):
        return
    answers = ask(hosts, "GET", path)
    assert_alike(answers, path)
