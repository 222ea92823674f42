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
    a late response delays the next send but not the clock, so queueing shows in latency."""

    def __init__(self, rate, on_done):
        self.interval = 1.0 / rate
        self.start = time.perf_counter()
        self.sent = 0
        self.on_done = on_done

    def next_slot(self):
        slot = self.start + self.sent * self.interval
        self.sent += 1
        return slot


class OpenLoopUser(FastHttpUser):
    """Sends at the schedule's intended times; latency counts from the intended time."""

    abstract = True
    path = "/"
    schedule: Schedule = None

    @task
    def request(self):
        intended = self.schedule.next_slot()
        delay = intended - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        self.client.get(self.path, name=self.path)
        self.schedule.on_done((time.perf_counter() - intended) * 1e6)
