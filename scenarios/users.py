"""Locust user classes. A scenario's path is set on a subclass at run time (see
harness/loadgen.py), so one class serves every endpoint."""
import time

import gevent
from locust import FastHttpUser, task


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
