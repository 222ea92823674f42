"""Estimated cycles: callgrind's cache and branch simulation, weighted into one figure.

This VM has no hardware counters, so what an instruction costs (a cache hit, a miss to the
last level, a miss to memory, a mispredicted branch) can only be simulated. The simulated
caches are fixed here rather than read from the host (valgrind's default): a count must mean
the same on every CI machine, and the same commit must give the same figures.

The weighting is the one iai and iai-callgrind use, from Itamar Turner-Trauring's
"consistent benchmarking in CI" (pythonspeed.com/articles/consistent-benchmarking-in-ci/):
estimated cycles = L1 hits + 5 x last-level hits + 35 x RAM accesses. Mispredicted branches are
reported beside it, not weighted in, so the figure stays comparable with those tools'.
"""

# A generic current core: 32 KiB 8-way L1 instruction and data caches, an 8 MiB 16-way last
# level, 64-byte lines (valgrind needs size / (ways x line) to be a power of two).
CACHES = {"I1": (32768, 8, 64), "D1": (32768, 8, 64), "LL": (8388608, 16, 64)}
VALGRIND_OPTIONS = ("--cache-sim=yes", "--branch-sim=yes",
                    *(f"--{name}={','.join(map(str, spec))}" for name, spec in CACHES.items()))
WEIGHTS = {"l1_hits": 1, "ll_hits": 5, "ram": 35}
SOURCE = "L1 hits + 5 x LL hits + 35 x RAM (iai / pythonspeed.com consistent-benchmarking-in-ci)"


def derived(totals):
    """Hits at each level, mispredicted branches and estimated cycles from callgrind's events
    (Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim)."""
    accesses = totals["Ir"] + totals["Dr"] + totals["Dw"]
    l1_misses = totals["I1mr"] + totals["D1mr"] + totals["D1mw"]
    ram = totals["ILmr"] + totals["DLmr"] + totals["DLmw"]
    parts = {"l1_hits": accesses - l1_misses, "ll_hits": l1_misses - ram, "ram": ram}
    return {**parts, "l1_misses": l1_misses,
            "branches": totals.get("Bc", 0) + totals.get("Bi", 0),
            "mispredicted": totals.get("Bcm", 0) + totals.get("Bim", 0),
            "estimated_cycles": sum(WEIGHTS[k] * v for k, v in parts.items())}


def per_request(without, with_, requests):
    """Per-request figures of one mode: (N-request phase - 0-request phase) / N, rounded to
    whole events (the phases are deterministic, so the rounding is the only loss)."""
    before, after = derived(without), derived(with_)
    return {key: round((after[key] - before[key]) / requests) for key in after}


def facts():
    """What instructions.json records about the simulation."""
    return {"caches": {name: {"size": s, "ways": w, "line": line} for name, (s, w, line) in CACHES.items()},
            "weights": dict(WEIGHTS), "source": SOURCE}
