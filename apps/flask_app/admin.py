from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView

from .models import Fortune, db


def init_admin(app):
    admin = Admin(app, name="fdbench")
    admin.add_view(ModelView(Fortune, db))
