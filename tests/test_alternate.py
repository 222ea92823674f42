"""Alternating slices: one app under load at a time, its CPU counted at the slice's edges, and a
load ladder set from capacities measured in the same run. Real gunicorn, real locust."""
import json
import subprocess
import sys

import pytest

from harness.run import alternate
from harness.run.alternate import AlternatingLoad, ladder_rate
from harness.run.config import make_config
from harness.run.plan import planned_trials
from harness.run.sampling import ServerSampler
from harness.infra.serve import Server, ServeConfig
from harness.paths import ROOT


def test_ladder_rate_is_a_share_of_the_slower_frameworks_capacity():
    capacity = {"flask": 1000.0, "django": 800.0, "django-stripped": 900.0, "baseline": 3000.0}
    assert ladder_rate(capacity, 0.75) == 600.0
    assert ladder_rate({"baseline": 3000.0}, 0.25) == 750.0   # no framework: the slowest target
    assert ladder_rate({}, 0.75) is None


def test_plan_alternates_the_order_every_cycle_and_puts_saturation_first():
    cfg = make_config("quick", targets=["flask", "django", "baseline"], scenarios=["json"])
    specs = planned_trials(cfg)
    assert cfg.alternate and [s.level for s in specs[:9]] == ["saturation"] * 9
    cycles = [[s.target for s in specs if s.round == c and s.level == "saturation"] for c in range(3)]
    assert cycles == [["flask", "django", "baseline"], ["baseline", "django", "flask"],
                      ["flask", "django", "baseline"]]
    assert {(s.mode, s.fraction) for s in specs if s.level == "75%"} == {("open", 0.75)}


@pytest.fixture(scope="module")
def two_servers(db_url):
    cfgs = [ServeConfig(app=app, variant="default", db_url=db_url, workers=1)
            for app in ("flask", "baseline")]
    servers = [Server(cfg).start() for cfg in cfgs]
    yield servers
    for server in servers:
        server.stop()


def test_only_the_slices_server_gets_requests_and_its_cpu_is_its_own(two_servers):
    """Both servers' CPU sampled over every slice: the one whose turn it is does the work, the
    other sleeps (its CPU is noise: gunicorn's heartbeat), and no request is lost or spills."""
    with AlternatingLoad([s.url for s in two_servers], "/json", 8) as load:
        load.ready()
        for index in (0, 1, 1, 0):
            samplers = [ServerSampler([s.proc.pid]) for s in two_servers]
            for sampler in samplers:
                sampler.begin()
            result = load.slice(index, 0.5)
            busy, idle = (sampler.end()["cpu_s"] for sampler in
                          (samplers[index], samplers[1 - index]))
            assert result["requests"] > 50 and result["errors"] == 0
            assert idle < 0.05 * busy, (index, busy, idle)
            assert result["elapsed_s"] >= 0.5


def test_open_loop_slice_holds_its_rate(two_servers):
    with AlternatingLoad([s.url for s in two_servers], "/json", 8) as load:
        load.ready()
        result = load.slice(1, 1.0, rate=200)
    assert 195 <= result["requests"] <= 200
    assert result["errors"] == 0


def test_run_scenario_sets_the_ladder_from_the_measured_capacity(db_url):
    cfg = make_config("quick", targets=["flask", "baseline"], scenarios=["json"], duration=0.3,
                      warmup=0.2)
    probes = []
    records = [r for r, _ in alternate.run_scenario(planned_trials(cfg), db_url, cfg.server_cpus,
                                                    cfg.load_cpus, warmup_s=0.2, probe_s=0.5,
                                                    on_probe=probes.append)]
    assert all(r["status"] == "ok" for r in records), [r.get("reason") for r in records]
    for r in records:  # the kernel's counters cover the slice's CPU time, to the tick
        k = r["server_kernel"]
        assert abs(k["user_s"] + k["sys_s"] - r["server_cpu_s"]) <= 0.03 + 0.2 * r["server_cpu_s"], r
        assert k["ctx_voluntary"] > 0
    # after the ladder, one perf-counted slice per target: a sync worker's syscalls per request
    assert [p["target"] for p in probes] == ["flask", "baseline"]
    for p in probes:
        assert p["requests"] > 20 and p["path"] == "/json", p
        calls = p["per_request"]["by_syscall"]
        assert 0.95 <= calls["accept4"] <= 1.1 and calls["close"] >= 1, p
        assert 5 <= p["per_request"]["syscalls"] <= 60, p
    capacity = alternate.capacity_of(records)
    opened = [r for r in records if r["level"] == "75%"]
    assert {r["rate"] for r in opened} == {round(0.75 * capacity["flask"], 1)}
    assert all(r["alternated_with"] == ["baseline" if r["target"] == "flask" else "flask"]
               for r in records)
    json.dumps(records)  # a record is stored as one JSON line


def test_lean_users_client_against_real_gunicorn(two_servers):
    """Every request is a new connection (the sync worker closes each), its address looked up
    once per client, not once per connection; a missing path is its status, not an error. In a
    child process, as the generator runs: there gevent comes first."""
    code = (
        "import sys\n"
        "import gevent.socket\n"
        "calls = []\n"
        "real = gevent.socket.getaddrinfo\n"
        "gevent.socket.getaddrinfo = lambda *a, **k: calls.append(a) or real(*a, **k)\n"
        "from scenarios.oneshot import OneShotClient\n"
        "client = OneShotClient(sys.argv[1])\n"
        "statuses = [client.get('/json') for _ in range(5)] + [client.get('/no-such-path')]\n"
        "print(len(calls), statuses)\n")
    done = subprocess.run([sys.executable, "-c", code, two_servers[0].url], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "1 [200, 200, 200, 200, 200, 404]"
