"""Alembic environment: runs against the engine the bot hands over."""
from alembic import context

from bot.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the alembic CLI: read the URL from the bot's settings
    from bot.config import load_config
    from bot.db import Database, database_url

    engine = Database(database_url(load_config())).engine

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=engine.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
