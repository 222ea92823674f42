"""Where the PostgreSQL tests get their server, and what happens when there is none.

FDBENCH_TEST_PG_URL (or a postgresql DATABASE_URL) names a server to use; otherwise a
throwaway cluster is started from the installed binaries (harness/infra/pg.py). With no binaries
the PostgreSQL tests FAIL, so a CI machine that lost its PostgreSQL cannot pass by skipping;
set FDBENCH_ALLOW_NO_PG=1 to skip them instead on a machine that has no PostgreSQL on purpose."""
import os

import pytest

from harness.infra import pg

ALLOW_NO_PG = "FDBENCH_ALLOW_NO_PG"


def given_url():
    url = os.environ.get("FDBENCH_TEST_PG_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def require_binaries():
    """Fail (or skip, when allowed) unless a throwaway cluster can be started here."""
    if pg.available():
        return
    message = ("PostgreSQL server binaries not found (initdb, pg_ctl): install postgresql, set "
               f"FDBENCH_PG_BIN or FDBENCH_TEST_PG_URL, or {ALLOW_NO_PG}=1 to skip these tests")
    if os.environ.get(ALLOW_NO_PG) == "1":
        pytest.skip(message)
    pytest.fail(message)
