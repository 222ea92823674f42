"""The code-size claims' rules on hand-made static files (docs/verdicts.md § loc_24k_10k and
§ admin_mvp): which count decides, the thresholds at their edges, and a missing input."""
import copy
from types import SimpleNamespace

import pytest

from harness.claims import CLAIMS
from harness.claims.codebase import admin_mvp, loc_24k_10k
from tests.staticfactory import STATIC


def loc_ev(written, with_generated):
    loc = copy.deepcopy(STATIC["loc"])
    loc["ratio"] |= {"written": written, "written_plus_generated": with_generated}
    return SimpleNamespace(static={"loc": loc})


@pytest.mark.parametrize("written,verdict", [
    (2.0, "supported"), (1.99, "mixed"), (1.5, "mixed"), (1.49, "refuted"),
])
def test_loc_thresholds_at_their_edges(written, verdict):
    assert loc_24k_10k(loc_ev(written, written)).verdict == verdict


def test_loc_written_lines_decide_and_the_other_count_is_shown_beside():
    v = loc_24k_10k(loc_ev(0.94, 1.66))
    assert v.verdict == "refuted"
    assert v.summary.startswith("Decided on written lines") and "0.94" in v.summary
    assert "1.66, which would give mixed, not refuted" in v.summary
    assert v.numbers["decided_on"] == "written" and v.numbers["verdict_with_generated"] == "mixed"


def test_loc_says_when_the_other_count_agrees():
    v = loc_24k_10k(loc_ev(1.2, 1.4))
    assert v.verdict == "refuted" and "would give the same verdict" in v.summary


def test_loc_rule_names_the_deciding_count_and_why():
    rule = next(c for c in CLAIMS if c.key == "loc_24k_10k").rule
    assert "Written lines decide" in rule and "not written by the developer" in rule
    assert "docs/verdicts.md § loc_24k_10k" in rule


def admin_ev(without=None, probes=None):
    static = copy.deepcopy({k: STATIC[k] for k in ("loc", "footprint", "security")})
    if probes is not None:
        static["security"]["probes"] = probes
    static.pop(without, None)
    return SimpleNamespace(static=static)


def test_admin_supported_with_every_input():
    assert admin_mvp(admin_ev()).verdict == "supported"


@pytest.mark.parametrize("missing", ["security", "loc", "footprint"])
def test_admin_missing_input_is_inconclusive_with_the_reason(missing):
    v = admin_mvp(admin_ev(without=missing))
    assert v.verdict == "inconclusive" and f"no static/{missing}.json" in v.summary


def test_admin_without_the_django_login_probe_is_inconclusive_not_mixed():
    v = admin_mvp(admin_ev(probes={"csrf": STATIC["security"]["probes"]["csrf"]}))
    assert v.verdict == "inconclusive" and "admin_login" in v.summary


def test_admin_open_to_anonymous_users_is_mixed():
    probes = copy.deepcopy(STATIC["security"]["probes"])
    probes["admin_login"]["django"]["protected"] = False
    assert admin_mvp(admin_ev(probes=probes)).verdict == "mixed"
