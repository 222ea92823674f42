"""Small static/*.json files in the stored shape (harness/measure/: loc.py, footprint.py, layers.py,
security.py, databases.py, microbench.py) with numbers chosen here, so a report test knows what
each table must show."""


def _loc_app(python, generated, admin, endpoints):
    return {"by_kind": {"python": {"written": python, "generated": generated}},
            "by_feature": {"json": 3, "admin": admin, "shared": python - 3 - admin},
            "totals": {"written": python, "generated": generated, "endpoints_written": endpoints, "variant": 0}}


def _stack(deps, mb, lines):
    return {"dependencies": deps, "dependency_count": len(deps), "installed_mb": mb, "py_lines": lines,
            "versions": {d: "1" for d in deps}}


def _startup(ms):
    return {"import": {"total_ms": ms, "by_package_ms": {"pkg": ms / 2}}, "cold_start_s": 0.5,
            "idle_worker_rss_mb": 40.0}


def _layer(calls, depth, middleware):
    return {"paths": {"/json": {"python_calls": calls, "view_depth": depth}},
            "middleware": {"count": len(middleware), "names": middleware}}


def _probe(protected, observed, remedy=None):
    return {"protected": protected, "observed": observed, "remedy": remedy}


STATIC = {
    "loc": {"method": "pygount", "ratio": {"article": 2.4, "written": 114 / 108, "endpoints_written": 1.0625,
                                           "written_plus_generated": 205 / 108},
            "apps": {"flask": _loc_app(108, 0, 20, 80), "django": _loc_app(114, 91, 2, 85)}},
    "footprint": {
        "stacks": {"flask": _stack(["click", "werkzeug"], 5.0, 45713), "django": _stack(["asgiref"], 31.6, 131332),
                   "flask app (no admin)": _stack(["click", "werkzeug"], 33.9, 243867),
                   "flask app": _stack(["click", "flask-admin", "werkzeug", "wtforms"], 55.5, 271602),
                   "django app": _stack(["asgiref"], 31.6, 131332)},
        "apps": {"flask": _startup(556.0), "django": _startup(423.0)}},
    "layers": {"targets": {"flask": _layer(243, 5, []),
                           "django": _layer(304, 19, ["django.middleware.csrf.CsrfViewMiddleware"])}},
    "security": {"settings": "defaults", "probes": {
        "csrf": {"flask": _probe(False, "POST without token -> 302",
                                 {"packages": ["flask-wtf"], "lines": 2, "code": "CSRFProtect(app)"}),
                 "django": _probe(True, "POST without token -> 403")},
        "admin_login": {"flask": _probe(True, "GET /admin/fortune/ anonymously -> 401"),
                        "django": _probe(True, "GET /admin/world/fortune/ anonymously -> 302")}}},
    "databases": {"engines": ["sqlite"], "versions": {"sqlite": "3.40.1"}, "unavailable": {"postgresql": "no server"},
                  "apps": {"flask": {"failed": {"sqlite": []}, "differ": [], "checks": ["db", "json"]}}},
    "microbench": {"us_per_call": {"flask": {"json": 280.0, "db": 1500.0}, "django": {"json": 400.0, "db": 1000.0}},
                   "ratios": {"json": 0.70, "db": 1.50}, "paths": {"json": "/json", "db": "/db"},
                   "statistic": "min", "timer": "process_time", "min_rounds": 100, "max_loadavg": 3.5, "machine": "testbox",
                   "datetime": "2026-11-25T12:00:00+00:00"},
}
