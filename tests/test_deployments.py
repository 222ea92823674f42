"""Every deployment, with the real servers: each serves every endpoint of every app, the
equivalence contract holds under it, keep-alive deployments really keep one connection, and
`fdbench serve --deployment` stops with nothing left behind."""
import http.client
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from harness.infra import deployments
from harness.infra.ports import free_port
from harness.infra.serve import Server, ServeConfig, gunicorn_command
from harness.paths import ROOT
from tests.conftest import TARGETS, target_id
from tests.helpers import FDBENCH, left_behind, tagged_env
# The equivalence contract's tests, collected here again with `servers` (below) serving each
# app under each deployment.
from tests.test_equivalence import (  # noqa: F401
    test_date_is_not_cached, test_db, test_fortunes, test_json, test_plaintext,
    test_queries_clamping, test_same_body_across_apps, test_twodb_reads_the_default_database_and_writes_the_second,
    test_unknown_path_is_404, test_updates_are_persisted_and_change_every_row)
from tests.test_equivalence import Url

ALL = list(deployments.DEPLOYMENTS)
KEEP_ALIVE = [name for name, d in deployments.DEPLOYMENTS.items() if d.keep_alive]
ENDPOINTS = {
    "/json": "application/json",
    "/plaintext": "text/plain",
    "/db": "application/json",
    "/queries?queries=5": "application/json",
    "/fortunes": "text/html; charset=utf-8",
    "/updates?queries=2": "application/json",
}


@pytest.fixture(scope="module")
def fleet(db_url):
    """deployment -> {target: Server}; one deployment's servers up at a time."""
    running = {}

    def serve(deployment):
        if deployment not in running:
            for servers in running.values():
                for server in servers.values():
                    server.stop()
            running.clear()
            running[deployment] = {}
            for app, variant in TARGETS:
                cfg = ServeConfig(app=app, variant=variant, db_url=db_url, workers=2,
                                  deployment=deployment)
                running[deployment][target_id((app, variant))] = Server(cfg).start()
        return running[deployment]

    yield serve
    for servers in running.values():
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="module", params=ALL)
def servers(request, fleet):
    return {name: Url(server.url, server.deployment.server_headers)
            for name, server in fleet(request.param).items()}


@pytest.fixture(scope="module")
def any_db_url(db_url):
    """The equivalence tests' database, here SQLite only (PostgreSQL: test_equivalence.py)."""
    return db_url


@pytest.mark.parametrize("deployment", ALL)
def test_every_endpoint_of_every_app(fleet, deployment):
    for name, server in fleet(deployment).items():
        for path, content_type in ENDPOINTS.items():
            resp = requests.get(server.url + path, timeout=30)
            assert resp.status_code == 200, (deployment, name, path)
            assert resp.headers["Content-Type"].lower().startswith(content_type), (deployment, name, path)


def server_side_peers(server):
    """Remote ports of the established connections the server's processes hold on its port."""
    peers = set()
    for root in server.pids:
        tree = psutil.Process(root)
        for proc in [tree, *tree.children(recursive=True)]:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == server.cfg.port:
                    peers.add(conn.raddr.port)
    return peers


def twenty_requests(deployment, db_url):
    """(client-side local ports used, server-side peers at the end) of 20 requests over one
    HTTPConnection, which reconnects by itself whenever the server closed."""
    with Server(ServeConfig(app="baseline", db_url=db_url, deployment=deployment)) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.cfg.port, timeout=10)
        ports = set()
        try:
            for _ in range(20):
                conn.request("GET", "/json")
                ports.add(conn.sock.getsockname()[1])
                resp = conn.getresponse()
                assert resp.status == 200
                resp.read()
            return ports, server_side_peers(server)
        finally:
            conn.close()


@pytest.mark.parametrize("deployment", KEEP_ALIVE)
def test_keep_alive_serves_twenty_requests_on_one_connection(db_url, deployment):
    ports, peers = twenty_requests(deployment, db_url)
    assert len(ports) == 1, ports
    assert peers == ports  # the server holds that one connection, and no other


def test_sync_closes_every_connection(db_url):
    """The control: the same count sees the sync worker's connection per request."""
    ports, peers = twenty_requests("gunicorn-sync", db_url)
    assert len(ports) == 20 and peers == set()


def test_nginx_counts_its_own_processes(db_url):
    with Server(ServeConfig(app="baseline", db_url=db_url, deployment="nginx")) as server:
        assert len(server.pids) == 2
        assert psutil.Process(server.pids[1]).name() == "nginx"
        described = server.describe()
    assert described["proxy"] == "nginx" and described["proxy_behind"] == "gunicorn-sync"
    assert described["proxy_version"] and described["server_version"]


@pytest.mark.parametrize("deployment", ALL)
def test_every_process_is_pinned_to_the_server_cpus(db_url, deployment):
    cfg = ServeConfig(app="baseline", db_url=db_url, deployment=deployment, cpus=[0])
    with Server(cfg) as server:
        trees = [psutil.Process(pid) for pid in server.pids]
        procs = [p for tree in trees for p in [tree, *tree.children(recursive=True)]]
        assert len(procs) >= 2 and {tuple(p.cpu_affinity()) for p in procs} == {(0,)}


def test_gunicorn_sync_command_line_unchanged(db_url):
    """The default deployment is what fdbench always ran: a change here moves every baseline."""
    cfg = ServeConfig(app="flask", db_url=db_url, port=8123, workers=2)
    assert gunicorn_command(cfg) == [
        sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:8123", "--workers", "2",
        "--worker-class", "sync", "--chdir", str(ROOT), "--log-level", "warning",
        "--graceful-timeout", "3", "apps.flask_app.wsgi:app"]


def test_describe_records_the_settings(db_url):
    cfg = ServeConfig(app="baseline", db_url=db_url, deployment="gunicorn-gthread", cpus=[0])
    with Server(cfg) as server:
        described = server.describe()
    assert described == {**described, "deployment": "gunicorn-gthread", "server": "gunicorn",
                         "workers": 1, "threads": 4, "keep_alive": True}


@pytest.mark.parametrize("deployment", ALL)
def test_interrupt_leaves_nothing_behind(db_url, deployment):
    env = tagged_env()
    port = free_port()
    proc = subprocess.Popen([*FDBENCH, "serve", "baseline", "--port", str(port), "--db", db_url,
                             "--deployment", deployment],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == f"listening on http://127.0.0.1:{port}"
        started = psutil.Process(proc.pid).children(recursive=True)
        assert started
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    gone, alive = psutil.wait_procs(started, timeout=5)
    assert not alive, [p.as_dict(["pid", "name", "status", "cmdline"]) for p in alive]
    assert not left_behind(env)


def test_missing_nginx_is_one_line_and_exit_2(run_cli, monkeypatch, db_url):
    monkeypatch.setenv("FDBENCH_NGINX", "/nonexistent/nginx")
    code, out, err = run_cli("serve", "baseline", "--port", str(free_port()), "--db", db_url,
                             "--deployment", "nginx")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "nginx not found" in err, err


def test_unknown_deployment_is_one_line_and_exit_2(run_cli, db_url):
    code, out, err = run_cli("serve", "flask", "--db", db_url, "--deployment", "mod_wsgi")
    assert code == 2 and err.strip().splitlines() == [
        f"fdbench: error: unknown deployment 'mod_wsgi': choose from {', '.join(ALL)} "
        "(NAME@N for N workers)"]


@pytest.mark.parametrize("deployment", ["gunicorn-sync@3", "nginx@2"])
def test_workers_per_cpu_are_started_and_recorded(db_url, deployment):
    """NAME@N: N worker processes per server CPU, whatever --workers says; behind nginx too."""
    cfg = ServeConfig(app="baseline", db_url=db_url, deployment=deployment, cpus=[0], workers=1)
    per_cpu = int(deployment.split("@")[1])
    with Server(cfg) as server:
        described = server.describe()
        assert requests.get(server.url + "/json", timeout=10).status_code == 200
        deadline = time.monotonic() + 10  # ready means one worker answers; the rest follow
        while len(psutil.Process(server.pids[0]).children()) < per_cpu and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(psutil.Process(server.pids[0]).children()) == per_cpu
    assert described["deployment"] == deployment and described["workers"] == per_cpu


@pytest.mark.parametrize("bad", ["gunicorn-sync@0", "gunicorn-sync@x", "gunicorn-sync@", "nope@2"])
def test_a_bad_worker_count_is_one_line_and_exit_2(run_cli, db_url, bad):
    code, out, err = run_cli("bench", "--profile", "quick", "--deployments", f"granian,{bad}")
    assert code == 2 and len(err.strip().splitlines()) == 1 and repr(bad) in err, err
