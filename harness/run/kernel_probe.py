"""What the kernel does per request, counted by the kernel itself: syscalls (in total and the
ones a gunicorn worker makes), context switches and page faults, from `perf stat` attached to
one server for one extra saturated slice.

/proc cannot give these: /proc/PID/io's syscr/syscw count only read- and write-like calls that
go through the VFS (a socket's recv/send do not), and stayed 0 here under load. perf's
tracepoints count every syscall, but each one they count costs a little, so the probe slice is
separate and its CPU figures are never used as the server's cost; its task-clock beside the
unprobed slices says what the counting cost.

A probe record (kernel.jsonl, one line per scenario and target):
    {"scenario": "json", "target": "flask", "path": "/json", "requests": 1480, "seconds": 1.0,
     "per_request": {"syscalls": 9.02, "context_switches": 1.01, "page_faults": 0.0,
                     "task_clock_us": 301.2, "by_syscall": {"accept4": 1.0, "recvfrom": 1.0, ...}}}
"""
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SOFTWARE = ("task-clock", "context-switches", "page-faults")
TOTAL = "raw_syscalls:sys_enter"
# What a sync worker's loop and a request through the apps can call; those the kernel lacks
# are left out (the total still counts them).
SYSCALLS = ("accept4", "accept", "recvfrom", "recvmsg", "sendto", "sendmsg", "close", "shutdown",
            "select", "pselect6", "poll", "ppoll", "epoll_wait", "fcntl", "newfstatat", "fstat",
            "read", "write", "pread64", "pwrite64", "lseek", "openat", "fchmod", "utimensat",
            "getpid", "ioctl", "futex", "mmap", "munmap", "brk", "getrandom", "fsync", "fdatasync",
            "setsockopt", "getsockname", "getpeername")
TRACEFS = Path("/sys/kernel/tracing/events/syscalls")
ATTACH_S = 0.3  # perf needs a moment to open its counters on every thread


@functools.cache
def unavailable():
    """Why the probe cannot run here, or None."""
    if shutil.which("perf") is None:
        return "perf not installed (Debian: apt-get install -y linux-perf)"
    test = subprocess.run(["perf", "stat", "-x", ",", "-e", TOTAL, "--", "true"],
                          capture_output=True, text=True)
    if test.returncode != 0:
        lines = test.stderr.strip().splitlines() or ["no output"]
        return f"perf cannot count syscalls here: {lines[-1]}"
    return None


@functools.cache
def events():
    present = [name for name in SYSCALLS if (TRACEFS / f"sys_enter_{name}").exists()]
    return [*SOFTWARE, TOTAL, *(f"syscalls:sys_enter_{name}" for name in present)]


def parse(text):
    """`perf stat -x,` output -> {event: count}; an event perf could not count is left out."""
    counts = {}
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) < 3 or line.startswith("#"):
            continue
        try:
            counts[fields[2]] = float(fields[0])
        except ValueError:
            continue  # "<not counted>" / "<not supported>"
    return counts


def per_request(counts, requests):
    """Counts per request; task-clock (ms) as µs."""
    def each(value):
        return round(value / requests, 3)

    by_syscall = {event.rsplit("sys_enter_", 1)[1]: each(value) for event, value in counts.items()
                  if event.startswith("syscalls:sys_enter_") and value}
    return {"syscalls": each(counts.get(TOTAL, 0)),
            "context_switches": each(counts.get("context-switches", 0)),
            "page_faults": each(counts.get("page-faults", 0)),
            "task_clock_us": round(1000 * counts.get("task-clock", 0) / requests, 2),
            "by_syscall": dict(sorted(by_syscall.items(), key=lambda kv: -kv[1]))}


def attach(pids, out):
    return subprocess.Popen(["perf", "stat", "-x", ",", "-o", str(out), "-e", ",".join(events()),
                             "-p", ",".join(map(str, pids))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def detach(perf):
    """SIGINT makes perf stat write its counts and exit."""
    if perf.poll() is None:
        perf.send_signal(signal.SIGINT)
    try:
        perf.wait(timeout=10)
    except subprocess.TimeoutExpired:
        perf.kill()
        perf.wait()


def probe(run_slice, pids, seconds):
    """Counts per request of one slice `run_slice(seconds)` (-> the generator's result) while
    perf counts the server processes `pids`. Returns (figures or None, the reason for None)."""
    reason = unavailable()
    if reason:
        return None, reason
    with tempfile.TemporaryDirectory(prefix="fdbench-perf-") as tmp:
        out = Path(tmp) / "stat.csv"
        perf = attach(pids, out)
        try:
            time.sleep(ATTACH_S)
            if perf.poll() is not None:
                return None, f"perf stat exited: {perf.stderr.read().strip()[-200:]}"
            result = run_slice(seconds)
        finally:
            detach(perf)
        counts = parse(out.read_text()) if out.exists() else {}
    if not result["requests"] or TOTAL not in counts:
        return None, "no requests or no counts in the probe slice"
    return {"requests": result["requests"], "seconds": seconds, "errors": result["errors"],
            "per_request": per_request(counts, result["requests"])}, None


def server_pids(root_pid):
    """The gunicorn master and its workers (perf -p does not follow children forked later)."""
    try:
        with open(f"/proc/{root_pid}/task/{root_pid}/children") as f:
            return [root_pid, *map(int, f.read().split())]
    except OSError:
        return [root_pid] if os.path.exists(f"/proc/{root_pid}") else []
