"""Code size of each reference app's own code (pygount source lines: code and strings, not
blank lines, comments or docstrings), split by kind and by feature, with what a generator wrote
(startproject/startapp boilerplate, makemigrations) counted apart from what a person wrote.

Generated lines are found by diffing each Django file against a fresh `startproject` +
`startapp` made by the installed Django: lines that match the pristine file are generated."""
import ast
import difflib
import io
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from pygount import SourceAnalysis

from ..paths import APPS

ARTICLE_RATIO = 24 / 10  # "24k lines of code in Django, 10k lines of code ... in Flask"
APP_DIRS = {"flask": APPS / "flask_app", "django": APPS / "django_app", "baseline": APPS / "wsgi_baseline"}
MULTI_DB = "multiple_databases"
# Top-level Python names (defs, classes, assignment targets) and files -> the feature they
# serve; anything else is "shared".
FEATURE_OF_NAME = {"json": "json", "plaintext": "plaintext", "single_query": "db",
                   "queries": "queries", "fortunes": "fortunes", "fortunes_page": "fortunes",
                   "updates": "updates", "update_worlds": "updates", "_sqlite_tx": "updates",
                   "form": "form", "MessageForm": "form", "init_admin": "admin",
                   # one app using two databases: its model, view and (Django) settings
                   "twodb": MULTI_DB, "AuditEntry": MULTI_DB, "init_audit": MULTI_DB,
                   "DATABASES['audit']": MULTI_DB, "DATABASE_ROUTERS": MULTI_DB}
FEATURE_OF_FILE = {"admin.py": "admin", "forms.py": "form", "fortunes.html": "fortunes", "form.html": "form",
                   "audit.py": MULTI_DB, "routers.py": MULTI_DB}
URL_FEATURE = re.compile(r"path\(['\"](admin/|json|plaintext|db|queries|fortunes|updates|form|twodb)['\"]")
FEATURE_OF_URL = {"admin/": "admin", "twodb": MULTI_DB}  # else the path is the feature's name
# Features beside the six endpoints: not in a total of "endpoints_written".
EXTRAS = ("form", "admin", MULTI_DB)
# Files that only exist for the stripped ablation variant: shown, not counted in the app.
VARIANT_FILES = {"settings_stripped.py", "content_length.py"}
CONFIG_FILES = {"settings.py", "wsgi.py", "asgi.py", "manage.py", "apps.py"}


def kind_of(rel: Path) -> str:
    if rel.name in VARIANT_FILES:
        return "variant"
    if "migrations" in rel.parts:
        return "migrations"
    if rel.suffix == ".html":
        return "templates"
    if rel.name in CONFIG_FILES or (rel.name == "__init__.py" and rel.parent == Path(".")):
        return "config"
    return "python"


def app_files(app_dir: Path):
    return sorted(p for p in app_dir.rglob("*") if p.suffix in (".py", ".html") and "__pycache__" not in p.parts)


def pristine_django(tmp: Path) -> Path:
    """What `startproject fdproject` + `startapp world` write with the installed Django."""
    django = [sys.executable, "-m", "django"]
    subprocess.run(django + ["startproject", "fdproject", str(tmp)], check=True, capture_output=True)
    (tmp / "world").mkdir()
    subprocess.run(django + ["startapp", "world", str(tmp / "world")], check=True, capture_output=True)
    return tmp


def generated_mask(lines, pristine_lines):
    """True for each line that a generator wrote (it matches the pristine file in order)."""
    mask = [False] * len(lines)
    matcher = difflib.SequenceMatcher(None, pristine_lines, lines, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            mask[j1:j2] = [True] * (j2 - j1)
    return mask


def feature_mask(rel: Path, text: str):
    """The feature each line serves: by file, by URL pattern, or by the top-level def it is in."""
    lines = text.splitlines()
    if rel.name in FEATURE_OF_FILE:
        return [FEATURE_OF_FILE[rel.name]] * len(lines)
    features = ["shared"] * len(lines)
    if rel.name == "urls.py":
        for i, line in enumerate(lines):
            if m := URL_FEATURE.search(line):
                features[i] = FEATURE_OF_URL.get(m.group(1), m.group(1))
        return features
    if rel.suffix == ".py":
        for node in ast.parse(text).body:
            feature = FEATURE_OF_NAME.get(node_name(node))
            if feature:
                first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                features[first - 1:node.end_lineno] = [feature] * (node.end_lineno - first + 1)
    return features


def node_name(node):
    """A top-level def's or class's name, what an assignment assigns to (X, X['key']), or for
    an `if`, the name of its first statement's."""
    if isinstance(node, ast.If):
        return node_name(node.body[0])
    if isinstance(node, ast.Assign):
        return ast.unparse(node.targets[0])
    return getattr(node, "name", None)


def source_lines(name: str, lines) -> int:
    """pygount's source lines (code + strings) of a group of lines, lexed as file `name`."""
    if not lines:
        return 0
    data = ("\n".join(lines) + "\n").encode()
    return SourceAnalysis.from_file(name, "fdbench", file_handle=io.BytesIO(data), generated_regexes=[]).source_count


def count_file(path: Path, rel: Path, pristine: Path | None) -> dict:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    kind = kind_of(rel)
    if kind == "migrations" and rel.name != "__init__.py":
        generated = [True] * len(lines)  # makemigrations wrote it
    elif pristine is not None and (pristine / rel).exists():
        generated = generated_mask(lines, (pristine / rel).read_text().splitlines())
    else:
        generated = [False] * len(lines)
    buckets = defaultdict(list)
    for line, gen, feature in zip(lines, generated, feature_mask(rel, text)):
        buckets[(gen, feature)].append(line)
    counts = {key: source_lines(path.name, group) for key, group in buckets.items()}
    return {
        "path": str(rel), "kind": kind,
        "written": sum(n for (gen, _), n in counts.items() if not gen),
        "generated": sum(n for (gen, _), n in counts.items() if gen),
        "features": {f: n for (gen, f), n in counts.items() if not gen and n},
    }


def count_app(app_dir: Path, pristine: Path | None) -> dict:
    files = [count_file(p, p.relative_to(app_dir), pristine) for p in app_files(app_dir)]
    counted = [f for f in files if f["kind"] != "variant"]
    by_kind, by_feature = defaultdict(lambda: {"written": 0, "generated": 0}), defaultdict(int)
    for f in counted:
        by_kind[f["kind"]]["written"] += f["written"]
        by_kind[f["kind"]]["generated"] += f["generated"]
        for feature, n in f["features"].items():
            by_feature[feature] += n
    written = sum(f["written"] for f in counted)
    extras = sum(by_feature.get(f, 0) for f in EXTRAS)
    return {
        "files": files,
        "by_kind": dict(by_kind),
        "by_feature": dict(by_feature),
        "totals": {"written": written, "generated": sum(f["generated"] for f in counted),
                   "endpoints_written": written - extras,
                   "variant": sum(f["written"] + f["generated"] for f in files if f["kind"] == "variant")},
    }


def measure() -> dict:
    """Per-app counts plus the Django/Flask ratios set beside the article's 2.4."""
    with tempfile.TemporaryDirectory() as tmp:
        pristine = pristine_django(Path(tmp))
        apps = {name: count_app(d, pristine if name == "django" else None) for name, d in APP_DIRS.items()}
    flask, django = apps["flask"]["totals"], apps["django"]["totals"]
    return {
        "method": "pygount source lines (code + strings); generated = matches a fresh "
                  "startproject/startapp file, or a migration",
        "apps": apps,
        "ratio": {
            "article": ARTICLE_RATIO,
            "written": django["written"] / flask["written"],
            "written_plus_generated": (django["written"] + django["generated"])
                                      / (flask["written"] + flask["generated"]),
            "endpoints_written": django["endpoints_written"] / flask["endpoints_written"],
        },
    }
