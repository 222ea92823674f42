"""Every process group fdbench starts (gunicorn, load generators) is tracked here, so that
however a run ends (Ctrl-C at any moment, SIGTERM, an exception) none is left behind."""
import os
import signal

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


def on_signal(signum, frame):
    """SIGINT/SIGTERM: raise KeyboardInterrupt now, and remember it, because Python swallows
    an exception raised inside a finalizer ("Exception ignored in ...") and would go on."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def check():
    """Raise again if a stop was asked for; called between trials and before storing one."""
    if _interrupted:
        raise KeyboardInterrupt
