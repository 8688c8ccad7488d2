"""WSGI entry point for gunicorn: `gunicorn mentormatch.wsgi:app`."""

from . import create_app

app = create_app()
