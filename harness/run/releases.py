"""Served cost per framework release (`fdbench versions --load`): every measured release of one
framework served at once by its own gunicorn, each from its own environment, and the lean
generator loading one of them per slice at saturation, in the order A B C, C B A, ... as the
alternating bench does. A slice's server CPU over its requests is that release's cost for that
cycle; consecutive releases compare cycle by cycle, so the machine's drift falls on both."""
from contextlib import ExitStack

from ..errors import FdbenchError
from ..infra.serve import Server, ServeConfig
from .alternate import AlternatingLoad, measure_slice
from .plan import cycle_order

USERS = 16
SLICE_S = 0.5


def slice_cost(load, index, server, seconds, cpus):
    """CPU-µs per request of one saturated slice of server `index`, or None with no request."""
    sample, _, result = measure_slice(load, index, server, seconds, None, cpus)
    if result["errors"]:
        raise FdbenchError(f"{result['errors']} errors from {server.cfg.app} at {server.url}")
    return 1e6 * sample["cpu_s"] / result["requests"] if result["requests"] else None


def load_releases(framework, releases, endpoints, db_url, cycles, server_cpus=(), load_cpus=(),
                  seconds=SLICE_S, warmup_s=0.5):
    """{release: {endpoint: [CPU-µs per request, one per cycle]}} for `releases`, a dict of
    release -> the interpreter of its environment. Raises FdbenchError when a server
    cannot start or answers with errors: the release's instruction counts still stand."""
    names = list(releases)
    costs = {name: {path: [] for path in endpoints} for name in names}
    with ExitStack() as stack:
        servers = [stack.enter_context(Server(ServeConfig(
            app=framework, db_url=db_url, cpus=list(server_cpus), python=releases[name])))
            for name in names]
        for path in endpoints:
            with AlternatingLoad([s.url for s in servers], path, USERS, load_cpus) as load:
                load.ready()
                for index in range(len(names)):
                    load.slice(index, warmup_s)
                for cycle in range(cycles):
                    for index in cycle_order(range(len(names)), cycle):
                        costs[names[index]][path].append(slice_cost(load, index, servers[index],
                                                                    seconds, server_cpus))
    return costs
