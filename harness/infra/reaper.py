"""Every process group fdbench starts (gunicorn, load generators) is tracked here, so that
however a run ends (Ctrl-C at any moment, SIGTERM, an exception) none is left behind."""
import os
import signal
from contextlib import contextmanager

_groups = set()


def track(pgid):
    _groups.add(pgid)


def kill(pgid):
    """SIGKILL the whole group; gone already is fine."""
    _groups.discard(pgid)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all():
    for pgid in list(_groups):
        kill(pgid)


_interrupted = False


_deferring = False  # inside starting(): a child is between fork and reaper.track
_pending = False


def on_signal(signum, frame):
    """SIGINT/SIGTERM: raise KeyboardInterrupt now, and remember it, because Python swallows
    an exception raised inside a finalizer ("Exception ignored in ...") and would go on."""
    global _interrupted, _pending
    _interrupted = True
    if _deferring:
        _pending = True
        return
    raise KeyboardInterrupt


def check():
    """Raise again if a stop was asked for; called between trials and before storing one."""
    if _interrupted:
        raise KeyboardInterrupt


@contextmanager
def starting():
    """Defer SIGINT/SIGTERM while a child is started and tracked: a stop raised inside Popen
    (after the fork, before Popen returns the pid) would leave an untracked child running.
    A deferred stop is raised when the block ends, the child tracked by then. (Blocking the
    signal would not do: another thread, rich's refresher, can receive it.)"""
    global _deferring, _pending
    _deferring, _pending = True, False
    try:
        yield
    finally:
        _deferring = False
    if _pending:
        raise KeyboardInterrupt


def child_setup(cpus=()):
    """preexec_fn for a tracked child: pin it to `cpus` if any."""
    def setup():
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup
