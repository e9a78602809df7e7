"""WSGI entry for gunicorn: `gunicorn -w 2 -k gthread --threads 4 wsgi:app`."""
import sys

from bot import create_app
from bot.errors import ConfigError

# gunicorn stops (instead of starting the worker again and again) when a worker exits with 3.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as exc:  # one line naming the key (or the command to run) and the fix
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(WORKER_BOOT_ERROR)
