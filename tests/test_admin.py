"""Each admin asks for a login, then lists and edits fortunes: Flask-Admin (HTTP Basic, the
app's own few lines) in-process, Django's admin served by gunicorn on a private database that
gets Django's auth and session tables."""
import base64
import sqlite3

import pytest
from werkzeug.security import generate_password_hash

from harness.infra import db as dbmod
from harness.measure import security
from harness.infra.serve import Server, ServeConfig


def fortune(path, id_):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT message FROM fortune WHERE id = ?", (id_,)).fetchone()[0]


@pytest.fixture
def private_db(tmp_path):
    path = tmp_path / "admin.sqlite3"
    dbmod.init(f"sqlite:///{path}")
    return path


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def flask_admin_client(private_db):
    from apps.flask_app import create_app

    app = create_app(f"sqlite:///{private_db}")
    app.config["ADMIN_PASSWORD_HASH"] = generate_password_hash("admin-password")
    return app.test_client()


@pytest.mark.parametrize("path", ["/admin/", "/admin/fortune/", "/admin/fortune/edit/?id=1"])
@pytest.mark.parametrize("headers", [{}, basic("admin", "wrong"), basic("other", "admin-password")])
def test_flask_admin_asks_for_a_login(flask_admin_client, path, headers):
    resp = flask_admin_client.get(path, headers=headers)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Basic realm="admin"'


def test_flask_admin_without_a_password_set_lets_nobody_in(private_db):
    from apps.flask_app import create_app

    client = create_app(f"sqlite:///{private_db}").test_client()
    assert client.get("/admin/fortune/", headers=basic("admin", "")).status_code == 401


def test_flask_admin_lists_and_edits(flask_admin_client, private_db):
    login = basic("admin", "admin-password")
    listing = flask_admin_client.get("/admin/fortune/", headers=login)
    assert listing.status_code == 200 and b"Feature: A bug with seniority." in listing.data
    resp = flask_admin_client.post("/admin/fortune/edit/?id=1", headers=login,
                                   data={"message": "edited by Flask-Admin"})
    assert resp.status_code == 302
    assert fortune(private_db, 1) == "edited by Flask-Admin"


def test_django_admin_lists_and_edits(private_db):
    url = f"sqlite:///{private_db}"
    security.prepare_django(url)
    with Server(ServeConfig(app="django", db_url=url)) as server:
        client = security.Client(server.url)
        status, headers, _ = client.request("GET", "/admin/world/fortune/")
        assert status == 302 and "/admin/login/" in headers["Location"]
        _, _, page = client.request("GET", "/admin/login/")
        status, _, _ = client.request("POST", "/admin/login/?next=/admin/", form={
            "username": security.PROBE_USER, "password": security.PROBE_PASSWORD, **security.csrf_token(page)})
        assert status == 302
        status, _, listing = client.request("GET", "/admin/world/fortune/")
        assert status == 200 and "Fortune object (1)" in listing
        _, _, form = client.request("GET", "/admin/world/fortune/1/change/")
        status, _, _ = client.request("POST", "/admin/world/fortune/1/change/", form={
            "message": "edited by Django admin", "_save": "Save", **security.csrf_token(form)})
        assert status == 302
    assert fortune(private_db, 1) == "edited by Django admin"
