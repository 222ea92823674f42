"""What a callgrind run needs so that it repeats to the instruction, each used where this
machine allows it and recorded beside the counts:

- address randomisation off (`setarch -R`): with it on, allocation addresses, and so the
  alignment paths of memcpy and pymalloc's lookups, shift a few dozen instructions per run.
  Containers often forbid it.
- a frozen clock (libfaketime, Debian's `faketime` package, preloaded): gunicorn's worker
  reads the clock around every request, and formatting or comparing different times costs
  different instructions (served /json moved by up to 400 in 11.7M without it).
  FAKETIME_NO_CACHE: by default libfaketime re-reads its settings every 10 s of real time,
  and that re-read, when it falls inside a measured phase, adds ~630 instructions to it.

Without them counts still come out, but may move by a few in 100,000 between runs.
"""
import functools
import glob
import subprocess

FROZEN_AT = "2025-11-13 02:13:20"  # UTC (the child has no TZ); a date without "@" stays put
FAKETIME_GLOBS = ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                  "/usr/local/lib/faketime/libfaketime.so.1")


@functools.cache
def no_aslr_prefix():
    """`setarch -R` where the kernel allows it, else nothing."""
    try:
        ok = subprocess.run(["setarch", "-R", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return ["setarch", "-R"] if ok else []


@functools.cache
def faketime_library():
    found = sorted(p for pattern in FAKETIME_GLOBS for p in glob.glob(pattern))
    return found[0] if found else None


def frozen_clock_env():
    """LD_PRELOAD and settings for libfaketime, or {} where it is not installed."""
    lib = faketime_library()
    return {"LD_PRELOAD": lib, "FAKETIME": FROZEN_AT, "FAKETIME_NO_CACHE": "1"} if lib else {}


def facts():
    """Which of the fixes this machine gave the run (recorded in instructions.json)."""
    return {"aslr_disabled": bool(no_aslr_prefix()), "clock_frozen": bool(faketime_library())}
