"""`fdbench compare` on two real served runs: Django as written, then Django with one heavy
middleware added for this test only. Real gunicorn, real locust, short bounded windows."""
import textwrap

import pytest

from harness.infra import serve
from harness.run.bench import bench
from harness.cli import main
from harness.run.config import make_config

HEAVY = '''
    import hashlib


    def heavy(get_response):
        """About a millisecond of CPU per request: a slowdown no noise on this machine hides."""
        def middleware(request):
            hashlib.pbkdf2_hmac("sha256", b"fdbench", b"salt", 3000)
            return get_response(request)
        return middleware
'''
ROUNDS = 4  # Mann-Whitney's smallest two-sided p with 4 against 4 is 0.029, under compare's 0.05


def django_run(out, db_url):
    cfg = make_config("quick", targets=["django"], scenarios=["json"], repeat=ROUNDS,
                      warmup=0.5, duration=1.5)
    return bench(cfg, db_url, out).path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heavy")
    (tmp / "heavy_mw.py").write_text(textwrap.dedent(HEAVY))
    (tmp / "settings_heavy.py").write_text(
        "from fdproject.settings import *  # noqa\nMIDDLEWARE = ['heavy_mw.heavy', *MIDDLEWARE]\n")
    db_url = f"sqlite:///{tmp}/bench.sqlite3"
    base = django_run(tmp / "base", db_url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(serve.VARIANTS, ("django", "default"),
                   {"DJANGO_SETTINGS_MODULE": "settings_heavy", "PYTHONPATH": str(tmp)})
        heavy = django_run(tmp / "heavy", db_url)
    return base, heavy


def compare_cli(capsys, base, new, tmp_path):
    code = main(["compare", str(base), str(new), "--html", str(tmp_path / "cmp.html")])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_heavy_middleware_is_a_named_regression(runs, capsys, tmp_path):
    code, out = compare_cli(capsys, *runs, tmp_path)
    assert code == 1, out
    named = [line for line in out.splitlines() if line.startswith("regression:")]
    assert any(line.startswith("regression: json") and "django: CPU-µs/request" in line
               for line in named), out
    print(out)  # the figures, for whoever reads the test log

