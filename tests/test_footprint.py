"""Footprint: dependency closures from installed metadata, import time, cold start."""
from harness.measure import footprint


def test_flask_closure_holds_its_declared_requirements():
    stats = footprint.stack_stats(["flask"])
    assert {"werkzeug", "jinja2", "itsdangerous", "click", "blinker"} <= set(stats["dependencies"])
    assert "flask" not in stats["dependencies"] and stats["roots"] == ["flask"]
    assert stats["dependency_count"] == len(stats["dependencies"])
    assert stats["installed_mb"] > 0 and stats["py_lines"] > 1000


def test_extras_are_followed():
    plain = footprint.closure(["flask-admin"])
    with_sqla = footprint.closure(["flask-admin[sqlalchemy]"])
    assert "sqlalchemy" in with_sqla and "sqlalchemy" not in plain


def test_import_profile_sees_the_app_imports(db_url):
    flask = footprint.import_profile("flask", db_url)
    assert flask["total_ms"] > 0
    assert {"flask", "sqlalchemy"} <= set(flask["by_package_ms"])
    assert "django" not in flask["by_package_ms"]


def test_cold_start_and_rss(db_url):
    result = footprint.cold_start("baseline", db_url)
    assert 0 < result["cold_start_s"] < 30
    assert result["idle_worker_rss_mb"] > 5
