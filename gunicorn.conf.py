"""gunicorn's settings file (read from the working directory): the schema is checked once in the
master before any worker starts, so an install that needs `python -m bot initdb` is refused with
one line instead of workers failing one after another."""
import sys


def on_starting(server):
    """Refuses to start on an empty or older database schema, naming the command to run."""
    from bot.app import check_schema
    from bot.config import load_config
    from bot.db import Database, database_url
    from bot.errors import ConfigError

    try:
        cfg = load_config()
        database = Database(database_url(cfg))
        try:
            check_schema(database)
        finally:
            database.engine.dispose()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(3)
