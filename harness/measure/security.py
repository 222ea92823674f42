"""Security out of the box: real HTTP probes against the Flask and Django apps served with their
default settings (gunicorn on 127.0.0.1), and what it takes to close each gap in the other.

The apps run on a private SQLite copy: Django's admin login needs its auth and session tables,
which the benchmark database must not get. A second, empty database makes /db fail, so the
probe sees what a 500 shows with DEBUG off."""
import http.client
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from ..infra import db as dbmod
from ..infra.serve import APP_SPECS, Server, ServeConfig, server_env

APPS = ("flask", "django")
EVIL_HOST = "evil.example"
XSS = '<script>alert("fdbench")</script>'
LEAKS = ("Traceback", 'File "', "no such table", "sqlite3", "OperationalError")
ADMIN = {"flask": "/admin/fortune/", "django": "/admin/world/fortune/"}
PROBE_USER, PROBE_PASSWORD = "probe", "probe-password-9f3k"  # local throwaway superuser
HEADERS = {  # header -> values that count as protection
    "X-Frame-Options": ("DENY", "SAMEORIGIN"),
    "X-Content-Type-Options": ("nosniff",),
    "Referrer-Policy": ("same-origin", "strict-origin", "strict-origin-when-cross-origin", "no-referrer"),
    "Cross-Origin-Opener-Policy": ("same-origin", "same-origin-allow-popups"),
}
# What closes each gap in Flask: the code a Flask user adds (counted, and exercised by
# tests/test_security.py where it needs no extra package) and the packages it needs.
FLASK_REMEDIES = {
    "csrf": {"packages": ["flask-wtf"], "code": (
        "csrf = CSRFProtect(app)\n"
        '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">')},
    "headers": {"packages": [], "code": (
        "@app.after_request\n"
        "def security_headers(response):\n"
        '    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")\n'
        '    response.headers.setdefault("X-Content-Type-Options", "nosniff")\n'
        '    response.headers.setdefault("Referrer-Policy", "same-origin")\n'
        '    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")\n'
        "    return response")},
    "host": {"packages": [], "code": 'app.config["TRUSTED_HOSTS"] = ["127.0.0.1", "localhost"]'},
    "session_samesite": {"packages": [], "code": 'app.config["SESSION_COOKIE_SAMESITE"] = "Lax"'},
    "session_secure": {"packages": [], "code": 'app.config["SESSION_COOKIE_SECURE"] = True  # needs HTTPS'},
    # The Flask app now has one (HTTP Basic through Flask-Admin's is_accessible, apps/flask_app/admin.py,
    # counted in its admin lines); an app without it needs that or a Flask-Login user model and view.
    "admin_login": {"packages": [], "code": None},
}
DJANGO_REMEDIES = {
    "session_secure": {"packages": [], "code": "SESSION_COOKIE_SECURE = True  # needs HTTPS\nCSRF_COOKIE_SECURE = True"},
}
PROBE_REMEDY = {"csrf": "csrf", "host": "host", "session_samesite": "session_samesite",
                "session_secure": "session_secure", "admin_login": "admin_login",
                **{f"header:{h}": "headers" for h in HEADERS}}


class Client:
    """Just enough HTTP for the probes: raw Host header, a cookie jar, every Set-Cookie kept."""

    def __init__(self, base):
        self.netloc = urlsplit(base).netloc
        self.cookies, self.set_cookies = {}, []

    def request(self, method, path, form=None, host=None):
        conn = http.client.HTTPConnection(self.netloc, timeout=10)
        headers = {"Host": host or self.netloc}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for raw in resp.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(raw)
            name, _, value = raw.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip().strip('"')
        conn.close()
        return resp.status, resp.headers, text

    def follow(self, method, path, form=None):
        status, headers, text = self.request(method, path, form)
        while status in (301, 302, 303) and headers.get("Location"):
            status, headers, text = self.request("GET", urlsplit(headers["Location"]).path or "/")
        return status, headers, text


def csrf_token(text):
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    return {"csrfmiddlewaretoken": m.group(1)} if m else {}


def cookie_flags(raw):
    """Set-Cookie header -> {"HttpOnly": bool, "Secure": bool, "SameSite": str|None}."""
    attrs = [a.strip() for a in raw.split(";")[1:]]
    lower = {a.split("=")[0].lower(): a.partition("=")[2] for a in attrs}
    return {"HttpOnly": "httponly" in lower, "Secure": "secure" in lower,
            "SameSite": lower.get("samesite") or None}


def header_protects(name, value):
    return value is not None and value.strip().lower() in {v.lower() for v in HEADERS[name]}


def probe_headers(base):
    _, headers, _ = Client(base).request("GET", "/form")
    return {f"header:{h}": {"observed": headers.get(h), "protected": header_protects(h, headers.get(h))}
            for h in HEADERS}


def probe_csrf(base):
    client = Client(base)
    client.request("GET", "/form")  # the visitor has the page and its cookies, but no token
    status, _, _ = client.request("POST", "/form", form={"message": "forged"})
    return {"observed": f"POST without token -> {status}", "protected": status == 403}


def probe_host(base):
    status, _, _ = Client(base).request("GET", "/json", host=EVIL_HOST)
    return {"observed": f"Host: {EVIL_HOST} -> {status}", "protected": status == 400}


def probe_autoescape(base):
    client = Client(base)
    _, _, page = client.request("GET", "/form")
    _, _, text = client.follow("POST", "/form", form={"message": XSS, **csrf_token(page)})
    escaped, raw = "&lt;script&gt;" in text, XSS in text
    return {"observed": f"escaped={escaped} raw={raw}", "protected": escaped and not raw}


def session_cookie(app, base):
    """Flask's session cookie appears on a flash(); Django's sessionid on an admin login."""
    client = Client(base)
    _, _, page = client.request("GET", "/form")
    if app == "flask":
        client.request("POST", "/form", form={"message": "hello"})
        name = "session"
    else:
        _, _, page = client.request("GET", "/admin/login/")
        client.request("POST", "/admin/login/?next=/admin/", form={
            "username": PROBE_USER, "password": PROBE_PASSWORD, **csrf_token(page)})
        name = "sessionid"
    raw = next((c for c in client.set_cookies if c.startswith(name + "=")), None)
    return name, raw


def probe_session(app, base):
    name, raw = session_cookie(app, base)
    flags = cookie_flags(raw) if raw else {}
    return {
        "session_samesite": {"observed": f"{name}: SameSite={flags.get('SameSite')} HttpOnly={flags.get('HttpOnly')}",
                             "protected": bool(flags.get("HttpOnly")) and flags.get("SameSite") in ("Lax", "Strict")},
        "session_secure": {"observed": f"{name}: Secure={flags.get('Secure')}", "protected": bool(flags.get("Secure"))},
    }


def probe_admin(app, base):
    status, headers, _ = Client(base).request("GET", ADMIN[app])
    login = status in (301, 302) and "login" in (headers.get("Location") or "")
    return {"observed": f"GET {ADMIN[app]} anonymously -> {status}", "protected": login or status in (401, 403)}


def probe_error(base):
    status, _, text = Client(base).request("GET", "/db")
    leaks = [s for s in LEAKS if s in text]
    return {"observed": f"{status}, leaks {leaks or 'nothing'}", "protected": status == 500 and not leaks}


def probe_app(app, base):
    return {"csrf": probe_csrf(base), **probe_headers(base), "host": probe_host(base),
            "autoescape": probe_autoescape(base), **probe_session(app, base),
            "admin_login": probe_admin(app, base)}


def prepare_django(db_url):
    """Django's own tables (auth, sessions, admin) and a superuser, in the probe's private DB."""
    chdir, _, _ = APP_SPECS["django"]
    env = server_env(ServeConfig(app="django", db_url=db_url))
    env.update(DJANGO_SUPERUSER_PASSWORD=PROBE_PASSWORD)
    manage = [sys.executable, "manage.py"]
    for args in (["migrate", "contenttypes"], ["migrate", "auth"], ["migrate", "sessions"], ["migrate", "admin"],
                 ["createsuperuser", "--noinput", "--username", PROBE_USER, "--email", "probe@example.com"]):
        subprocess.run(manage + args, cwd=chdir, env=env, check=True, capture_output=True, timeout=120)


def remedy(app, probe):
    table = FLASK_REMEDIES if app == "flask" else DJANGO_REMEDIES
    fix = table.get(PROBE_REMEDY.get(probe))
    if fix is None:
        return None
    lines = len(fix["code"].splitlines()) if fix["code"] else None
    return {"packages": fix["packages"], "lines": lines, "code": fix["code"]}


def measure(apps=APPS) -> dict:
    """{"probes": {probe: {app: {"observed", "protected", "remedy"}}}}; defaults only."""
    with tempfile.TemporaryDirectory() as tmp:
        url, broken = f"sqlite:///{Path(tmp) / 'probe.sqlite3'}", f"sqlite:///{Path(tmp) / 'empty.sqlite3'}"
        dbmod.init(url)
        prepare_django(url)
        results = {}
        for app in apps:
            with Server(ServeConfig(app=app, db_url=url)) as server:
                results[app] = probe_app(app, server.url)
            with Server(ServeConfig(app=app, db_url=broken)) as server:  # /db raises there
                results[app]["error_500"] = probe_error(server.url)
    probes = {}
    for app, found in results.items():
        for probe, result in found.items():
            fix = None if result["protected"] else remedy(app, probe)
            probes.setdefault(probe, {})[app] = {**result, "remedy": fix}
    return {"probes": probes, "settings": "each app's defaults; DEBUG off; plain HTTP on 127.0.0.1"}
