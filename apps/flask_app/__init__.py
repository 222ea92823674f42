"""The Flask reference app, written the way the Flask docs write one: an app factory,
Flask-SQLAlchemy models, a blueprint of views and a Jinja2 template."""
import os

from flask import Flask

from .audit import init_audit
from .models import db


def create_app(database_url=None):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    # flash() keeps its messages in the signed session cookie, which needs a key.
    app.config["SECRET_KEY"] = os.environ.get("FLASK_SECRET_KEY", "flask-insecure-fdbench-local-only")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Several gunicorn workers write to one SQLite file: wait for the lock, don't fail.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    else:
        # The pool sized to the server's threads, whatever their number, as Django's persistent
        # connections are (one per thread, CONN_MAX_AGE): every connection opened is kept
        # (SQLAlchemy's "no limit"). Its default keeps 5 and lets 10 more come and go, fewer
        # than a server that runs its own pool of threads (Granian) uses at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 0, "max_overflow": -1}
    if os.environ.get("FDBENCH_APP_JSON") == "orjson":  # the `flask-orjson` target
        from .orjson_provider import OrjsonProvider

        app.json = OrjsonProvider(app)
    init_audit(app)  # the second database's bind, before init_app reads the binds
    db.init_app(app)

    from .admin import init_admin
    from .views import bp

    app.register_blueprint(bp)
    init_admin(app)
    return app
