"""Security probes over real HTTP, and the Flask remedies the table offers actually closing
their gap (exercised in-process, since they are code a Flask user would add)."""
import pytest

from harness.infra import db as dbmod
from harness.measure import security


@pytest.fixture(scope="module")
def probes():
    return security.measure()["probes"]


def test_csrf(probes):
    assert probes["csrf"]["django"]["protected"] is True
    assert probes["csrf"]["flask"]["protected"] is False
    assert probes["csrf"]["flask"]["remedy"]["packages"] == ["flask-wtf"]


def test_both_escape_template_output(probes):
    assert probes["autoescape"]["flask"]["protected"] and probes["autoescape"]["django"]["protected"]


def test_host_header(probes):
    assert "400" in probes["host"]["django"]["observed"]
    assert "200" in probes["host"]["flask"]["observed"]


def test_500_shows_no_traceback(probes):
    for app in ("flask", "django"):
        assert probes["error_500"][app]["observed"].startswith("500"), app


def test_every_probe_covers_both_apps(probes):
    assert len(probes) == 11
    for probe, by_app in probes.items():
        assert set(by_app) == {"flask", "django"}, probe
        for result in by_app.values():
            assert result["protected"] or result["remedy"] is not None, probe


def test_cookie_flags_parse():
    assert security.cookie_flags("s=1; HttpOnly; Path=/; SameSite=Lax") == \
        {"HttpOnly": True, "Secure": False, "SameSite": "Lax"}


@pytest.fixture
def flask_app(tmp_path):
    from apps.flask_app import create_app

    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    dbmod.init(url)
    return create_app(url)


def apply(app, remedy):
    exec(security.FLASK_REMEDIES[remedy]["code"], {"app": app})


def test_header_remedy_closes_the_header_gaps(flask_app):
    apply(flask_app, "headers")
    headers = flask_app.test_client().get("/form").headers
    for name in security.HEADERS:
        assert security.header_protects(name, headers.get(name)), name


def test_host_remedy_rejects_a_bad_host(flask_app):
    client = flask_app.test_client()
    assert client.get("/json", headers={"Host": "evil.example"}).status_code == 200
    apply(flask_app, "host")
    assert client.get("/json", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/json", headers={"Host": "127.0.0.1"}).status_code == 200


def test_samesite_remedy_sets_lax(flask_app):
    apply(flask_app, "session_samesite")
    resp = flask_app.test_client().post("/form", data={"message": "hi"})
    raw = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert security.cookie_flags(raw)["SameSite"] == "Lax"
