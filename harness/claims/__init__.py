"""Claims registry; importing this package registers every claim module listed below."""
from .registry import CLAIMS, VERDICTS, Claim, Verdict, claim  # noqa: F401
from . import speed  # noqa: F401,E402  (speed claims: speed, modest, layers)
from . import codebase  # noqa: F401,E402  (code size, footprint, layers, security, admin)
from . import databases as scaling  # noqa: F401,E402  (multiple databases, scalability)
