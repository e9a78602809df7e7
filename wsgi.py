"""WSGI entry for gunicorn: `gunicorn -w 2 -k gthread --threads 4 wsgi:app`."""
import sys

from bot import create_app
from bot.errors import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one line naming the key and the fix, not a traceback
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
