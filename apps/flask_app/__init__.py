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
