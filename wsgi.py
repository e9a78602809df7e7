"""WSGI entry for gunicorn: `gunicorn -w 2 wsgi:app`."""
from bot import create_app

app = create_app()
