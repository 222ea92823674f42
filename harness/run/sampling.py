"""What the server costs: CPU time of the gunicorn master and every worker over the measured
window (and the kernel's part of it), and each worker's peak RSS. Whole process tree sampled at
the window's start and end; a worker that exits in between is reported, since its CPU time is
lost to psutil."""
import os
import threading
import time

import psutil


def tree(pid):
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(proc):
    """CPU time of every thread of `proc`, to the nanosecond from /proc/PID/task/*/schedstat.

    psutil's figure comes from /proc/PID/stat in clock ticks (10 ms): over a 3-second window of
    about one CPU-second, the two readings alone moved a trial's cost by up to 2%, and a ratio
    of two trials by twice that. Falls back to psutil where schedstat is missing."""
    try:
        total = 0
        with os.scandir(f"/proc/{proc.pid}/task") as tasks:
            for task in tasks:
                with open(f"{task.path}/schedstat", "rb") as f:
                    total += int(f.read().split(maxsplit=1)[0])
        return total / 1e9
    except FileNotFoundError:
        if not proc.is_running():
            raise psutil.NoSuchProcess(proc.pid) from None
    except (OSError, ValueError, IndexError):
        pass
    t = proc.cpu_times()
    return t.user + t.system


TICK = os.sysconf("SC_CLK_TCK")
COUNTERS = ("user_s", "sys_s", "minflt", "majflt", "ctx_voluntary", "ctx_involuntary")


def kernel_counters(procs):
    """What the kernel counts for these processes, summed: user and kernel CPU seconds
    (/proc/PID/stat, sampled at each timer tick, so one short window's split is rough and the
    analysis pools a case's windows), minor and major page faults, and every thread's voluntary
    and involuntary context switches (/proc/PID/status counts the main thread only)."""
    total = dict.fromkeys(COUNTERS, 0)
    for proc in procs:
        try:
            with open(f"/proc/{proc.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            switches = [0, 0]
            with os.scandir(f"/proc/{proc.pid}/task") as tasks:
                for task in tasks:
                    with open(f"{task.path}/status", "rb") as f:
                        for line in f:
                            if line.startswith(b"voluntary_ctxt_switches"):
                                switches[0] += int(line.split()[1])
                            elif line.startswith(b"nonvoluntary_ctxt_switches"):
                                switches[1] += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        # fields from state on: minflt is the 8th, majflt the 10th, utime/stime the 12th/13th
        for key, value in zip(COUNTERS, (int(fields[11]) / TICK, int(fields[12]) / TICK,
                                         int(fields[7]), int(fields[9]), *switches)):
            total[key] += value
    return total


class ServerSampler:
    """Start with begin(), stop with end(); a thread tracks RSS every `interval` seconds."""

    def __init__(self, pids, interval=1.0, reaped=False):
        """reaped: also count the CPU of the roots' children that exited and were reaped, from
        the roots' cumulative children times (for a server that forks a process per client)."""
        self.pids = list(pids)   # roots: gunicorn master (and the DB server when there is one)
        self.reaped = reaped
        self.interval = interval
        self.start_cpu = {}
        self.start_reaped = 0.0
        self.start_counters = dict.fromkeys(COUNTERS, 0)
        self.rss_peak = {}
        self.overhead_s = 0.0   # the sampler's own CPU time, so its cost can be reported
        self._stop = threading.Event()
        self._thread = None
        self._procs = []

    def refresh(self):
        self._procs = [p for pid in self.pids for p in tree(pid)]

    def snapshot(self):
        """CPU and RSS of the processes found by the last refresh() (walking /proc is the
        sampler's main cost, so the RSS thread reuses the list)."""
        out = {}
        for proc in self._procs:
            try:
                out[proc.pid] = (cpu_seconds(proc), proc.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        return out

    def reaped_cpu(self):
        """CPU seconds of the roots' children that have exited and been reaped, over their
        whole lives: the kernel adds a child's exact time to its parent's on reaping, /proc
        reports the sum in clock ticks. A child that lived across the window's start was
        counted live then, so the window's difference of live + reaped is its CPU in it."""
        total = 0.0
        for pid in self.pids:
            try:
                t = psutil.Process(pid).cpu_times()
                total += t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
        return total

    def _track_rss(self):
        while not self._stop.wait(self.interval):
            t0 = time.thread_time()
            for pid, (_, rss) in self.snapshot().items():
                self.rss_peak[pid] = max(self.rss_peak.get(pid, 0), rss)
            self.overhead_s += time.thread_time() - t0

    def begin(self):
        t0 = time.thread_time()
        self.refresh()
        snap = self.snapshot()
        self.start_cpu = {pid: cpu for pid, (cpu, _) in snap.items()}
        self.start_reaped = self.reaped_cpu() if self.reaped else 0.0
        self.start_counters = kernel_counters(self._procs)
        self.rss_peak = {pid: rss for pid, (_, rss) in snap.items()}
        self.overhead_s = time.thread_time() - t0
        self._stop.clear()
        self._thread = threading.Thread(target=self._track_rss, daemon=True)
        self._thread.start()

    def end(self):
        """CPU seconds used in the window (`sys_s`: the kernel's part), the kernel's other
        counters over it (`kernel`), peak RSS (MB) per process, and vanished pids."""
        self._stop.set()
        self._thread.join()
        t0 = time.thread_time()
        self.refresh()  # a worker forked during the window is counted from its birth
        snap = self.snapshot()
        counters = kernel_counters(self._procs)
        self.overhead_s += time.thread_time() - t0
        used = sum(cpu - self.start_cpu.get(pid, 0.0) for pid, (cpu, _) in snap.items())
        if self.reaped:  # a child gone since begin(): its whole life is now in the reaped sum
            gone = sum(cpu for pid, cpu in self.start_cpu.items() if pid not in snap)
            used += self.reaped_cpu() - self.start_reaped - gone
        for pid, (_, rss) in snap.items():
            self.rss_peak[pid] = max(self.rss_peak.get(pid, 0), rss)
        return {
            "cpu_s": used,
            "sys_s": max(counters["sys_s"] - self.start_counters["sys_s"], 0.0),
            "kernel": {k: round(max(counters[k] - self.start_counters[k], 0), 2) for k in COUNTERS},
            "rss_mb": {pid: rss / 2**20 for pid, rss in self.rss_peak.items()},
            "vanished": sorted(set(self.start_cpu) - set(snap)),
            "sampler_cpu_s": self.overhead_s,
        }


def core_times(cpus):
    """(idle, steal) seconds of these CPUs since boot, from /proc/stat's `cpuN` lines. Idle
    (with iowait) comes from the kernel's tickless idle clock, to the microsecond; the busy
    fields are sampled at each timer tick, which a server woken in step with the timer (250
    requests/s against a 250 Hz tick) hits unevenly: they showed 20% 'other' on a core that
    ran nothing else. So busy time is the window less idle and steal."""
    tick = os.sysconf("SC_CLK_TCK")
    idle = steal = 0
    wanted = {f"cpu{c}" for c in cpus}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if name in wanted:
                idle += int(values[3]) + int(values[4])
                steal += int(values[7])
    return idle / tick, steal / tick


class CoreMonitor:
    """What else ran on the server's CPUs during the window, and what the hypervisor stole.

    The server is pinned to its cores, but nothing stops other processes (another test suite,
    a browser, the DB server) from running there too; their cache and TLB traffic raises the
    server's own CPU time per request. A trial that shared its cores says so by how much."""

    def __init__(self, cpus):
        self.cpus = sorted(cpus) or sorted(os.sched_getaffinity(0))
        self.start = None

    def begin(self):
        self.start = (core_times(self.cpus), time.perf_counter())

    def end(self, own_cpu_s):
        """Shares of the window's core time: used by others than the server (own_cpu_s: the
        server's and its DB server's CPU on these cores), and stolen by the hypervisor."""
        (idle0, steal0), t0 = self.start
        idle1, steal1 = core_times(self.cpus)
        capacity = (time.perf_counter() - t0) * len(self.cpus)
        other = max(0.0, capacity - (idle1 - idle0) - (steal1 - steal0) - own_cpu_s)
        return {"other_pct": round(100 * other / capacity, 1),
                "steal_pct": round(100 * (steal1 - steal0) / capacity, 1)}


class Window:
    """What one measured window costs: each server's CPU, the DB server's apart when we run
    it, and what else ran on the server CPUs meanwhile (our servers and DB server are not
    counted as other). begin() at the window's start, end() at its end."""

    def __init__(self, servers, db_pids=(), server_cpus=()):
        """servers: per server, the root pids of its process trees (an app server, and a
        proxy in front of it, count as one server)."""
        self.samplers = [ServerSampler(list(roots)) for roots in servers]
        # PostgreSQL forks a backend per connection: a pool that opens and closes them (an
        # overflow) leaves backends that live and die inside a window, counted only as reaped.
        self.db = ServerSampler(db_pids, reaped=True) if db_pids else None
        self.cores = CoreMonitor(server_cpus)

    def begin(self):
        self.cores.begin()
        for sampler in self.samplers:
            sampler.begin()
        if self.db:
            self.db.begin()

    def end(self):
        """(a sample per server, each with the window's `cores`; the DB sample or None)."""
        samples = [sampler.end() for sampler in self.samplers]
        db_sample = self.db.end() if self.db else None
        ours = sum(s["cpu_s"] for s in samples) + (db_sample["cpu_s"] if db_sample else 0.0)
        shared = self.cores.end(ours)
        for sample in samples:
            sample["cores"] = shared
        return samples, db_sample
