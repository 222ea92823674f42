"""Two databases in one app, as Flask-SQLAlchemy's docs set them up ("Multiple Databases with
Binds"): the audit log's model names its bind, SQLALCHEMY_BINDS says where that database is,
and the session sends each query to its model's database. /twodb reads a World row from the
default database and writes, then counts, its audit entry in the second one."""
import os

from flask import Blueprint, jsonify
from sqlalchemy.orm import Mapped, mapped_column

from .models import db
from .views import random_worlds

bp = Blueprint("audit", __name__)


class AuditEntry(db.Model):
    __bind_key__ = "audit"
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    world_id: Mapped[int]
    randomnumber: Mapped[int]


@bp.route("/twodb")
def twodb():
    world = random_worlds(1)[0].to_dict()
    entry = AuditEntry(world_id=world["id"], randomnumber=world["randomNumber"])
    db.session.add(entry)
    db.session.flush()
    logged = db.session.scalar(db.select(db.func.count(AuditEntry.id)).filter_by(world_id=entry.world_id))
    result = {**world, "auditId": entry.id, "logged": logged}  # before commit expires the entry
    db.session.commit()
    return jsonify(result)


def init_audit(app):
    """Before db.init_app: where the "audit" bind lives. Unset, the app has one database and
    /twodb fails (as Django's does without its "audit" alias)."""
    if "AUDIT_DATABASE_URL" in os.environ:
        app.config["SQLALCHEMY_BINDS"] = {"audit": os.environ["AUDIT_DATABASE_URL"]}
    app.register_blueprint(bp)
