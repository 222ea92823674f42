"""What fdbench measures, named once: the targets (an app in a variant) and the endpoints every
app serves. Everything else imports these; nothing here imports anything.

Two lists of request paths, because two kinds of measurement need different things:
- ENDPOINTS: one request per endpoint, for the in-process measures that look at what a
  request goes through (layers, micro-benchmarks, code size by feature). `/updates` writes
  20 rows like `/queries` reads 20, so the two are alike but for the writes.
- COUNTED_PATHS: the paths callgrind counts. They are the load test's own requests
  (scenarios queries-20 and updates-5 in scenarios/matrix.py), so that each count stands
  beside the CPU-µs ratio measured at the same path. The list is on the driver's command
  line and shapes the heap the counts depend on: changing it changes every count.
"""

# target -> (app, variant): what a trial serves. "default" is the app as its community writes
# it; Django is also measured without middleware, to say where the gap comes from; the
# "orjson" variants encode their JSON with orjson (a library the article's "specific libraries
# and tools" could mean), measured only where asked (`--apps`, the libraries profile).
TARGETS = {
    "flask": ("flask", "default"),
    "django": ("django", "default"),
    "django-stripped": ("django", "stripped"),
    "baseline": ("baseline", "default"),
    "flask-orjson": ("flask", "orjson"),
    "django-orjson": ("django", "orjson"),
}
# the reference targets: what a run, the static passes and the instruction counts measure
# unless told otherwise
TARGET_NAMES = ("flask", "django", "django-stripped", "baseline")
LIBRARIES = {"flask-orjson": "flask", "django-orjson": "django"}  # a library's target -> its app's
# each target's name in tables and its colour in every chart
LABELS = {"flask": "Flask", "django": "Django", "django-stripped": "Django, stripped",
          "baseline": "baseline", "flask-orjson": "Flask + orjson", "django-orjson": "Django + orjson"}
COLORS = {"flask": "#1f77b4", "django": "#2ca02c", "django-stripped": "#98df8a",
          "baseline": "#7f7f7f", "flask-orjson": "#aec7e8", "django-orjson": "#bcbd22"}
FRAMEWORKS = ("flask", "django", "django-stripped")  # every target but the bare WSGI ceiling

# endpoint name -> the path requested
ENDPOINTS = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=20",
}
COUNTED_PATHS = (*(ENDPOINTS[e] for e in ("json", "plaintext", "db", "queries", "fortunes")),
                 "/updates?queries=5")


def target_of(app, variant="default"):
    """The target name of (app, variant), or None for a pair fdbench does not serve."""
    wanted = (app, variant or "default")
    return next((name for name, pair in TARGETS.items() if pair == wanted), None)
