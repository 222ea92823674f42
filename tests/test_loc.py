"""Code size: generated lines are told apart from written ones, features add up, and the
command prints the ratio table."""
import pytest

from harness.measure import loc
from harness.targets import ENDPOINTS
from harness.cli import main


@pytest.fixture(scope="module")
def result():
    return loc.measure()


def files(result, app):
    return {f["path"]: f for f in result["apps"][app]["files"]}


def test_migrations_and_boilerplate_are_generated(result):
    django = files(result, "django")
    assert django["world/migrations/0001_initial.py"]["written"] == 0
    assert django["world/migrations/0001_initial.py"]["generated"] > 10
    assert django["manage.py"]["written"] == 0 and django["manage.py"]["generated"] > 0
    # settings.py is startproject's file edited by hand: both parts are there
    assert django["fdproject/settings.py"]["written"] > 0 < django["fdproject/settings.py"]["generated"]


def test_flask_has_no_generated_lines(result):
    assert result["apps"]["flask"]["totals"]["generated"] == 0


def test_features_add_up_to_written_lines(result):
    for app in ("flask", "django"):
        for f in result["apps"][app]["files"]:
            assert sum(f["features"].values()) == f["written"], f["path"]


def test_each_endpoint_and_extra_has_lines(result):
    for app in ("flask", "django"):
        by_feature = result["apps"][app]["by_feature"]
        for feature in (*ENDPOINTS, "form", "admin"):
            assert by_feature.get(feature, 0) > 0, (app, feature)


def test_two_database_code_is_its_own_feature(result):
    """Flask's bind, model and view (audit.py); Django's alias and router setting, router, model,
    view and URL: counted as multiple_databases, left out of the six endpoints' total."""
    for app, paths in (("flask", {"audit.py"}),
                       ("django", {"fdproject/settings.py", "fdproject/urls.py", "world/models.py",
                                   "world/routers.py", "world/views.py"})):
        counted = {p for p, f in files(result, app).items() if f["features"].get(loc.MULTI_DB)}
        assert counted == paths, app
        totals = result["apps"][app]["totals"]
        extras = sum(result["apps"][app]["by_feature"].get(f, 0) for f in ("form", "admin", loc.MULTI_DB))
        assert totals["endpoints_written"] == totals["written"] - extras
    assert files(result, "django")["fdproject/settings.py"]["features"][loc.MULTI_DB] == 3  # if, alias, routers


def test_feature_mask_names_assignments_and_their_if():
    from pathlib import Path
    src = "A = 1\nif x:\n    DATABASES['audit'] = 2\nDATABASE_ROUTERS = []\n"
    assert loc.feature_mask(Path("settings.py"), src) == ["shared"] + [loc.MULTI_DB] * 3


def test_variant_files_are_not_in_the_app_total(result):
    django = result["apps"]["django"]
    counted = sum(f["written"] for f in django["files"] if f["kind"] != "variant")
    assert django["totals"]["written"] == counted
    assert django["totals"]["variant"] > 0


def test_ratio_is_computed_from_totals(result):
    apps = result["apps"]
    assert result["ratio"]["written"] == apps["django"]["totals"]["written"] / apps["flask"]["totals"]["written"]
    assert result["ratio"]["article"] == 2.4


def test_generated_mask_marks_pristine_lines():
    assert loc.generated_mask(["a", "mine", "b"], ["a", "b", "gone"]) == [True, False, True]


def test_feature_mask_follows_top_level_defs():
    src = "import x\n\n@bp.route('/json')\ndef json():\n    return 1\n\ndef helper():\n    pass\n"
    from pathlib import Path
    mask = loc.feature_mask(Path("views.py"), src)
    assert mask[2:5] == ["json"] * 3 and mask[0] == "shared" and mask[6] == "shared"


def test_loc_command_prints_ratio(capsys):
    assert main(["loc"]) == 0
    out = capsys.readouterr().out
    assert "Django / Flask" in out and "2.40" in out
