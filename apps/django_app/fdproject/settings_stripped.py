"""The ablation variant: startproject's seven middleware removed, so that the report can say
how much of Django's cost per request the default stack accounts for.

One function stays: without CommonMiddleware Django sends no Content-Length (gunicorn then
falls back to chunked encoding), and the equivalence contract requires the header.
"""
from .settings import *  # noqa: F401,F403

MIDDLEWARE = ["fdproject.content_length.content_length"]
