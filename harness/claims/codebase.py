"""The article's non-speed claims, decided on the static measurements of a run
(static/loc.json, footprint.json, layers.json, security.json, microbench.json). Every rule was
written down before any number was looked at."""
from ..analysis import security_gaps
from ..targets import ENDPOINTS
from .registry import Verdict, claim



def _static(ev, name):
    return (getattr(ev, "static", None) or {}).get(name)


def _missing(name):
    return Verdict("inconclusive", f"no static/{name}.json in this run (`fdbench bench` writes it; --static adds it to a quick run)")


def _loc_verdict(ratio):
    return "supported" if ratio >= 2.0 else "refuted" if ratio < 1.5 else "mixed"


@claim(
    "loc_24k_10k",
    quote="For a task that would need 24k lines of code in Django, 10k lines of code can be written in Flask.",
    measured="pygount source lines in each reference app (six endpoints, /twodb, a form, a CRUD admin): "
             "the lines a developer wrote, and apart from them what startproject/startapp and "
             "makemigrations generated.",
    rule="Written lines decide: R = Django/Flask lines a developer wrote, because the article speaks "
         "of lines \"written\" and generated boilerplate (startproject, startapp, migrations) is not "
         "written by the developer. Supported if R >= 2.0 (the article's 2.4 within about 20%); "
         "refuted if R < 1.5; mixed in between. The ratio with generated lines counted is shown beside "
         "it with the verdict it would give; it never decides (docs/verdicts.md § loc_24k_10k).",
)
def loc_24k_10k(ev):
    loc = _static(ev, "loc")
    if loc is None:
        return _missing("loc")
    r, apps = loc["ratio"], loc["apps"]
    verdict, other = _loc_verdict(r["written"]), _loc_verdict(r["written_plus_generated"])
    f, d = apps["flask"]["totals"], apps["django"]["totals"]
    would = "the same verdict" if other == verdict else f"{other}, not {verdict}"
    return Verdict(verdict, (
        f"Decided on written lines: Django {d['written']} vs Flask {f['written']}, ratio {r['written']:.2f} "
        f"(six endpoints only {r['endpoints_written']:.2f}) against the article's {r['article']:.1f}. "
        f"Counting Django's {d['generated']} generated lines too (not written by the developer) the "
        f"ratio is {r['written_plus_generated']:.2f}, which would give {would}. "
        "A small app: the ratio of a 10k-line project is not measured here."),
        r | {"decided_on": "written", "verdict_with_generated": other})


@claim(
    "few_dependencies",
    quote="It is a micro-framework that has very few or no dependencies on other libraries.",
    measured="Installed distributions each framework pulls in transitively (importlib.metadata), "
             "alone and as the reference apps install them.",
    rule="Supported if Flask alone pulls in no more distributions than Django alone and at most 3; "
         "refuted if it pulls in more than Django; mixed otherwise (docs/verdicts.md § few_dependencies).",
)
def few_dependencies(ev):
    fp = _static(ev, "footprint")
    if fp is None:
        return _missing("footprint")
    s = fp["stacks"]
    flask, django = s["flask"]["dependency_count"], s["django"]["dependency_count"]
    verdict = "refuted" if flask > django else "supported" if flask <= 3 else "mixed"
    return Verdict(verdict, (
        f"Flask pulls in {flask} ({', '.join(s['flask']['dependencies'])}), Django {django} "
        f"({', '.join(s['django']['dependencies'])}); as built, the Flask app "
        f"{s['flask app']['dependency_count']} (no admin: {s['flask app (no admin)']['dependency_count']}), "
        f"the Django app {s['django app']['dependency_count']}."),
        {k: v["dependency_count"] for k, v in s.items()})


def _smaller(a, b, margin=0.10):
    """Is a at least `margin` smaller than b?"""
    return a <= (1 - margin) * b


@claim(
    "smaller_code_base",
    quote="smaller code base",
    measured="Python lines of the framework with its dependencies (alone, and as the apps install "
             "them) and the app's own written lines, Flask vs Django.",
    rule="Supported if Flask is at least 10% smaller on all three; refuted if on none; mixed otherwise "
         "(docs/verdicts.md § smaller_code_base).",
)
def smaller_code_base(ev):
    fp, loc = _static(ev, "footprint"), _static(ev, "loc")
    if fp is None or loc is None:
        return _missing("footprint" if fp is None else "loc")
    s = fp["stacks"]
    pairs = {
        "framework + deps": (s["flask"]["py_lines"], s["django"]["py_lines"]),
        "as installed by the apps": (s["flask app (no admin)"]["py_lines"], s["django app"]["py_lines"]),
        "app's written lines": (loc["apps"]["flask"]["totals"]["written"], loc["apps"]["django"]["totals"]["written"]),
    }
    wins = sum(_smaller(f, d) for f, d in pairs.values())
    verdict = "supported" if wins == len(pairs) else "refuted" if wins == 0 else "mixed"
    text = "; ".join(f"{k}: Flask {f:,} vs Django {d:,}" for k, (f, d) in pairs.items())
    return Verdict(verdict, text + " (Python lines; the app stacks include SQLAlchemy vs Django's ORM).",
                   {k: {"flask": f, "django": d} for k, (f, d) in pairs.items()})


def _path_figure(layers, target, path, key):
    return layers["targets"].get(target, {}).get("paths", {}).get(path, {}).get(key)


@claim(
    "fewer_layers_structure",
    quote="Due to the fact that Flask has fewer layers, it will operate slightly better in terms of "
          "web framework efficiency, whereas Django offers more intricate, comprehensive functionality.",
    measured="Python function calls per request and stack depth at the view, in-process (sys.setprofile), "
             "per endpoint; middleware count. The speed half of the sentence is the `layers` claim.",
    rule="Supported if Flask makes fewer Python calls than Django (default settings) on every endpoint "
         "and its view runs shallower; refuted if it makes more calls on every endpoint; mixed otherwise "
         "(docs/verdicts.md § fewer_layers_structure).",
)
def fewer_layers_structure(ev):
    layers = _static(ev, "layers")
    if layers is None:
        return _missing("layers")
    calls = {p: (_path_figure(layers, "flask", p, "python_calls"), _path_figure(layers, "django", p, "python_calls"))
             for p in ENDPOINTS.values()}
    calls = {p: v for p, v in calls.items() if None not in v}
    if not calls:
        return Verdict("inconclusive", "no endpoint measured for both Flask and Django")
    fewer = [f < d for f, d in calls.values()]
    depth = {t: _path_figure(layers, t, "/json", "view_depth") for t in ("flask", "django", "django-stripped")}
    verdict = ("supported" if all(fewer) and depth["flask"] < depth["django"]
               else "refuted" if not any(fewer) else "mixed")
    text = "; ".join(f"{p} {f} vs {d}" for p, (f, d) in calls.items())
    return Verdict(verdict, (
        f"Python calls per request Flask vs Django: {text}. View at stack depth {depth['flask']} vs "
        f"{depth['django']} ({depth['django-stripped']} without middleware); {_middleware(layers)}."
        + _micro_text(ev)), {"calls": calls, "view_depth": depth})


def _middleware(layers):
    count = {t: v["middleware"]["count"] for t, v in layers["targets"].items()}
    return ", ".join(f"{t} {n} middleware" for t, n in count.items())


def _micro_text(ev):
    micro = _static(ev, "microbench")
    if not micro or not micro.get("ratios"):
        return ""
    return " In-process Flask/Django time per request: " + ", ".join(
        f"{e} {r:.2f}" for e, r in micro["ratios"].items()) + "."


def _score(sec, app):
    probes = sec["probes"]
    passed = [p for p, by_app in probes.items() if by_app.get(app, {}).get("protected")]
    return passed, len(probes)


def _gaps(sec, app):
    return security_gaps.gaps(sec["probes"], app)


@claim(
    "security_django",
    quote="Very good security",
    measured="HTTP probes against the Django app with startproject's defaults: CSRF on a form POST, "
             "X-Frame-Options, nosniff, Referrer-Policy, COOP, bad Host, autoescaping, session cookie "
             "flags, anonymous admin, what a 500 shows.",
    rule="Supported if Django's defaults pass at least 80% of the probes; refuted below 50%; mixed "
         "otherwise (docs/verdicts.md § security_django).",
)
def security_django(ev):
    sec = _static(ev, "security")
    if sec is None:
        return _missing("security")
    passed, total = _score(sec, "django")
    share = len(passed) / total
    verdict = "supported" if share >= 0.8 else "refuted" if share < 0.5 else "mixed"
    return Verdict(verdict, f"Django passes {len(passed)}/{total} probes by default; gaps: "
                            f"{', '.join(_gaps(sec, 'django')) or 'none'}.", {"passed": len(passed), "total": total})


@claim(
    "security_flask_risk",
    quote="greater security risk",
    measured="The same probes against the Flask app with Flask's defaults (no extensions), and what "
             "it takes (lines, packages) to close each gap.",
    rule="Supported if Flask's defaults fail at least 2 more probes than Django's; refuted if they "
         "fail no more than Django's; mixed if exactly one more (docs/verdicts.md § security_flask_risk).",
)
def security_flask_risk(ev):
    sec = _static(ev, "security")
    if sec is None:
        return _missing("security")
    flask_gaps, django_gaps = _gaps(sec, "flask"), _gaps(sec, "django")
    extra = len(flask_gaps) - len(django_gaps)
    verdict = "supported" if extra >= 2 else "refuted" if extra <= 0 else "mixed"
    return Verdict(verdict, (
        f"Out of the box Flask fails {len(flask_gaps)} probes ({', '.join(flask_gaps)}), Django "
        f"{len(django_gaps)} ({', '.join(django_gaps) or 'none'}). {_cost_text(sec)}"),
        {"flask_gaps": flask_gaps, "django_gaps": django_gaps})


def _cost_text(sec):
    """What closing the Flask gaps takes: distinct remedy code lines and packages."""
    cost = security_gaps.closing_cost(sec["probes"], "flask")
    packages = cost["packages"]
    return (f"Closing them takes {cost['lines']} lines and {len(packages)} packages ({', '.join(packages) or 'none'})"
            + (f", plus unwritten code for {', '.join(cost['unwritten'])}." if cost["unwritten"] else "."))


@claim(
    "admin_mvp",
    quote="Django Admin can be used to quickly launch a web application.",
    measured="Lines written and packages added for a CRUD admin of Fortune behind a login: "
             "django.contrib.admin vs Flask-Admin, which lets everyone in by default, so the Flask "
             "app adds HTTP Basic (counted in its lines); whether each asks for a login (security probe).",
    rule="Supported if Django's admin needs no more written lines and no more added packages than "
         "Flask-Admin and asks for a login by default; refuted if it needs more lines or packages; "
         "mixed otherwise. Inconclusive when static/loc.json, footprint.json or security.json (or "
         "its probe of Django's admin login) is missing (docs/verdicts.md § admin_mvp).",
)
def admin_mvp(ev):
    loc, fp, sec = _static(ev, "loc"), _static(ev, "footprint"), _static(ev, "security")
    missing = next((name for name, data in (("loc", loc), ("footprint", fp), ("security", sec)) if data is None), None)
    if missing:
        return _missing(missing)
    login = sec.get("probes", {}).get("admin_login", {})
    if "django" not in login:
        return Verdict("inconclusive", "static/security.json has no admin_login probe of Django: "
                                       "whether its admin asks for a login is not known")
    lines = {a: loc["apps"][a]["by_feature"].get("admin", 0) for a in ("flask", "django")}
    s = fp["stacks"]
    flask_pkgs = sorted(set(s["flask app"]["versions"]) - set(s["flask app (no admin)"]["versions"]))
    if lines["django"] > lines["flask"]:
        verdict = "refuted"
    else:
        verdict = "supported" if login["django"].get("protected") else "mixed"
    return Verdict(verdict, (
        f"Admin for Fortune: Django {lines['django']} written lines, no package (contrib.admin, plus "
        f"migrate and createsuperuser; user accounts, a login form, sessions, permissions); Flask "
        f"{lines['flask']} lines{_flask_login(login)}, and {len(flask_pkgs)} packages "
        f"({', '.join(flask_pkgs)}). Anonymous access: Django "
        f"{_login_text(login, 'django')}, Flask {_login_text(login, 'flask')}."),
        {"lines": lines, "flask_packages": flask_pkgs})


def _flask_login(login):
    if login.get("flask", {}).get("protected"):
        return ", its HTTP Basic login included (one account from the config)"
    return " with no login (Flask-Admin lets everyone in by default)"


def _login_text(login, app):
    probe = login.get(app)
    return probe["observed"].split("-> ")[-1] if probe else "not probed"
