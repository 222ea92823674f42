"""The CRUD admin for Fortune: Flask-Admin, behind a login. Flask-Admin lets everyone in by
default and leaves authentication to the app (its is_accessible hook); the smallest login its
docs describe is HTTP Basic, here scoped to the admin: one account from the config, a hashed
password, nobody in until one is set (as Django's admin until createsuperuser)."""
import os

from flask import Response, current_app, request
from flask_admin import Admin, AdminIndexView
from flask_admin.contrib.sqla import ModelView
from werkzeug.security import check_password_hash

from .models import Fortune, db


class LoginRequired:
    def is_accessible(self):
        auth, cfg = request.authorization, current_app.config
        return bool(auth and cfg["ADMIN_PASSWORD_HASH"] and auth.username == cfg["ADMIN_USERNAME"]
                    and check_password_hash(cfg["ADMIN_PASSWORD_HASH"], auth.password or ""))

    def inaccessible_callback(self, name, **kwargs):
        return Response("Login required.", 401, {"WWW-Authenticate": 'Basic realm="admin"'})


class IndexView(LoginRequired, AdminIndexView):
    pass


class FortuneView(LoginRequired, ModelView):
    pass


def init_admin(app):
    app.config.setdefault("ADMIN_USERNAME", os.environ.get("FLASK_ADMIN_USERNAME", "admin"))
    # werkzeug.security.generate_password_hash(password); unset: the admin stays locked
    app.config.setdefault("ADMIN_PASSWORD_HASH", os.environ.get("FLASK_ADMIN_PASSWORD_HASH"))
    admin = Admin(app, name="fdbench", index_view=IndexView())
    admin.add_view(FortuneView(Fortune, db))
