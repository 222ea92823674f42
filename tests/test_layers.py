"""Layers: the child process finds each app's view, its stack and its middleware."""
import pytest

from harness.measure import layers


@pytest.fixture(scope="module")
def result(db_url):
    return layers.measure(db_url, targets=("flask", "django", "django-stripped", "baseline"),
                          paths=("/json", "/fortunes"))


def test_every_request_succeeds(result):
    for target in result["targets"].values():
        for path in target["paths"].values():
            assert path["status"] == "200 OK"


def test_view_stack_ends_in_the_view(result):
    t = result["targets"]
    assert t["flask"]["paths"]["/json"]["view_stack"][-1] == "apps.flask_app.views:json"
    assert t["django"]["paths"]["/json"]["view_stack"][-1] == "world.views:json"
    assert t["flask"]["paths"]["/json"]["view_stack"][0] == "flask.app:Flask.__call__"
    assert t["baseline"]["paths"]["/json"]["view_depth"] == 2


def test_middleware_deepens_django(result):
    t = result["targets"]
    assert t["django"]["middleware"]["count"] == 7
    assert t["django-stripped"]["middleware"]["count"] == 1
    assert t["django"]["paths"]["/json"]["view_depth"] > t["django-stripped"]["paths"]["/json"]["view_depth"]


def test_frameworks_cost_more_calls_than_the_baseline(result):
    t = result["targets"]
    for name in ("flask", "django"):
        assert t[name]["paths"]["/fortunes"]["python_calls"] > t["baseline"]["paths"]["/fortunes"]["python_calls"]


def test_ratio_helper(result):
    a = result["targets"]["flask"]["paths"]["/json"]["python_calls"]
    b = result["targets"]["django"]["paths"]["/json"]["python_calls"]
    assert layers.ratio(result, "/json") == a / b
    assert layers.ratio(result, "/missing") is None
