"""The margins and error rates every cost verdict is judged against, fixed before any run was
read. Each one's reason is in docs/verdicts.md § Margins; a ratio here is Django/Flask CPU-µs
per request, symmetric on the log scale (a margin m stands for [1/m, m])."""
import math

ALPHA = 0.05          # § Multiplicity: 95% intervals; a family of S scenarios at 1 - ALPHA/S each
TRIVIAL = 1.05        # § Margins: below a framework's own minor-release step and a third of one
                      # slice pair's noise here; the smallest difference that counts (TOST margin)
MODEST = 1.5          # § Margins: under half of the smallest factor the serving choice alone
                      # moves a request's cost (keep-alive ~4x, server choice up to 13x)


def inside(interval, margin) -> bool:
    """The whole interval within [1/margin, margin]."""
    low, high = interval
    return low >= 1 / margin and high <= margin


def beyond(interval, margin) -> bool:
    """The whole interval outside [1/margin, margin], on one side."""
    low, high = interval
    return low > margin or high < 1 / margin


def side(interval) -> int:
    """+1 if the interval lies above 1, -1 below, 0 if it holds 1."""
    low, high = interval
    return 1 if low > 1 else -1 if high < 1 else 0


def percent(ratio: float) -> str:
    """1.05 -> '5%'."""
    return f"{(ratio - 1) * 100:.0f}%"


def log_margin(ratio: float) -> float:
    return math.log(ratio)
