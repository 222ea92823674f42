import random

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from .models import Fortune, World, db

bp = Blueprint("bench", __name__)


def query_count():
    """The TechEmpower rule: 1..500, anything unparsable or below 1 counts as 1."""
    try:
        n = int(request.args.get("queries", 1))
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def random_worlds(n):
    # Distinct ids, so that every row costs exactly one SELECT (no identity-map hits).
    return [db.session.get(World, i) for i in random.sample(range(1, 10001), n)]


@bp.route("/json")
def json():
    return jsonify(message="Hello, World!")


@bp.route("/plaintext")
def plaintext():
    return "Hello, World!", {"Content-Type": "text/plain"}


def new_random_number(old):
    """A random number other than `old`, uniform over the other 9,999: an unchanged value would
    let an ORM skip the row's UPDATE, and every app must write every row on every request."""
    number = random.randint(1, 9999)
    return number + 1 if number >= old else number


@bp.route("/db")
def single_query():
    return jsonify(random_worlds(1)[0].to_dict())


@bp.route("/queries")
def queries():
    return jsonify([w.to_dict() for w in random_worlds(query_count())])


@bp.route("/fortunes")
def fortunes():
    rows = db.session.execute(db.select(Fortune)).scalars().all()
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=lambda f: f.message)
    return render_template("fortunes.html", fortunes=rows)


@bp.route("/updates")
def updates():
    worlds = random_worlds(query_count())
    for world in worlds:
        world.randomnumber = new_random_number(world.randomnumber)
    result = [w.to_dict() for w in worlds]  # before commit expires the rows
    db.session.commit()
    return jsonify(result)


@bp.route("/form", methods=["GET", "POST"])
def form():
    """A small state-changing form, as the Flask tutorial writes one (no extensions)."""
    if request.method == "POST":
        message = request.form.get("message", "").strip()
        if message and len(message) <= 200:
            flash(f"You said: {message}")
            return redirect(url_for("bench.form"))
        flash("A message of 1 to 200 characters is required.")
    return render_template("form.html")
