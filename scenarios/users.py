"""Locust user classes. A scenario's path is set on a subclass at run time (see
harness/loadgen.py), so one class serves every endpoint. FastHttpUser drives the trials of one
app (or paired apps); LeanUser drives the alternating slices, one server at a time."""
import time

import gevent
import gevent.event
from locust import FastHttpUser, User, task

from scenarios.keepalive import KeepAliveClient
from scenarios.oneshot import OneShotClient


class ClosedLoopUser(FastHttpUser):
    """Sends the next request as soon as the last one is answered: finds throughput."""

    abstract = True
    path = "/"

    @task
    def request(self):
        self.client.get(self.path, name=self.path)


class Schedule:
    """Intended send times at a fixed rate, shared by all open-loop users (wrk2's method):
    a late response delays the next send but not the clock, so queueing shows in latency.
    With several servers (a paired trial) the slots go to them in turn, so every server sees
    the same rate and the same moments of the machine."""

    def __init__(self, rate, on_done, servers=1):
        self.interval = 1.0 / rate
        self.start = time.perf_counter()
        self.sent = 0
        self.servers = servers
        self.on_done = on_done

    def next_slot(self):
        """(intended send time, index of the server it goes to)."""
        slot = self.start + self.sent * self.interval
        index = self.sent % self.servers
        self.sent += 1
        return slot, index


class OpenLoopUser(FastHttpUser):
    """Sends at the schedule's intended times; latency counts from the intended time.
    `urls`: base URLs of the servers of a paired trial (empty: the user's own host)."""

    abstract = True
    path = "/"
    urls: tuple = ()
    schedule: Schedule = None

    @task
    def request(self):
        intended, index = self.schedule.next_slot()
        delay = intended - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        url = self.urls[index] + self.path if self.urls else self.path
        self.client.get(url, name=self.path, context={"server": index})
        self.schedule.on_done((time.perf_counter() - intended) * 1e6, index)


class Slice:
    """One server's turn: the load goes only to `server`, from `start` for `seconds`. Closed
    loop when `rate` is None, else intended send times at `rate` (latency counted from them).
    Requests still in flight when the turn ends are waited for, so every request of a slice is
    answered by its server within it. `record(micros)` takes each answered request's time."""

    def __init__(self, server, seconds, rate, record):
        self.server, self.rate, self.record = server, rate, record
        self.start = time.perf_counter()
        self.end = self.start + seconds
        self.active = True
        self.sent = self.requests = self.errors = self.in_flight = 0
        self.ended = gevent.event.Event()
        self.drained = gevent.event.Event()

    def next_send(self):
        """The intended send time of the next request, or None once the slice has no more."""
        if self.rate is None:
            return time.perf_counter() if self.active else None
        slot = self.start + self.sent / self.rate
        if slot >= self.end:
            return None
        self.sent += 1
        return slot

    def leave(self, micros, failed):
        self.in_flight -= 1
        self.requests += 1
        self.errors += failed
        if not failed:
            self.record(micros)
        if not self.active and self.in_flight == 0:
            self.drained.set()

    def close(self, timeout):
        self.active = False
        self.ended.set()
        if self.in_flight:
            self.drained.wait(timeout)


class Turns:
    """The slices the controller opens one after another; users wait while none is open.
    `clients`: every user's clients, one per server, so that a slice can count and end the
    persistent connections to its server (`connection_counts`, `hang_up`)."""

    def __init__(self):
        self.current = None
        self.opened = gevent.event.Event()
        self.clients = []

    def connection_counts(self, server):
        """(opened, reconnects, retries) of the keep-alive clients to `server` so far."""
        clients = [user[server] for user in self.clients]
        return (sum(c.opened for c in clients), sum(c.reconnects for c in clients),
                sum(c.retries for c in clients))

    def hang_up(self, server):
        """Close every connection to `server` once its slice is drained: an idle server then
        holds none open while another is measured (it would wake to time them out on the
        shared CPU), and every slice starts from the same state, whatever the server's idle
        timeout (gunicorn's 2 s, nginx's 75 s)."""
        for user in self.clients:
            user[server].close()

    def open(self, slice_):
        self.current = slice_
        self.opened.set()

    def close(self, timeout=30.0):
        slice_, self.current = self.current, None
        self.opened.clear()
        slice_.close(timeout)
        return slice_


class LeanUser(User):
    """A one-request connection at a time per server and user, half-closed as soon as the request
    is sent (scenarios/oneshot.py says why), every response time straight into the slice's
    HdrHistogram, locust's request event fired only for failures: faster than FastHttpUser on one
    core, so the generator is not what limits a server, nor what it pays per request.
    With `keepalive`, one persistent connection per server instead (scenarios/keepalive.py),
    for the deployments that keep connections open."""

    abstract = True
    path = "/"
    urls: tuple = ()
    turns: Turns = None
    keepalive = False
    on_failure = None  # fires locust's request event

    def on_start(self):
        client = KeepAliveClient if self.keepalive else OneShotClient
        self.clients = [client(url) for url in self.urls]
        if self.keepalive:
            self.turns.clients.append(self.clients)

    @task
    def request(self):
        slice_ = self.turns.current
        if slice_ is None:
            self.turns.opened.wait()
            return
        intended = slice_.next_send()
        if intended is None:
            slice_.ended.wait()
            return
        delay = intended - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        if not slice_.active:
            return
        slice_.in_flight += 1
        failed = True
        try:
            status = self.clients[slice_.server].get(self.path)
            failed = status >= 400
            if failed:
                self.on_failure(self.path, f"HTTP {status}")
        except Exception as exc:  # noqa: BLE001 - any failure counts, and the user goes on
            self.on_failure(self.path, repr(exc))
        finally:
            slice_.leave((time.perf_counter() - intended) * 1e6, failed)
