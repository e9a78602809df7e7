"""Database errors sorted into outages (keep the callback for replay) and the rest."""
from __future__ import annotations

from sqlalchemy import exc as sa_exc


def is_outage(error: BaseException) -> bool:
    """A connection lost or refused, a lock or pool wait that ran out: trying later can succeed."""
    if isinstance(error, sa_exc.TimeoutError):          # no pooled connection came free
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return bool(error.connection_invalidated) or isinstance(
            error, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return False


def is_duplicate(error: BaseException) -> bool:
    """A unique key refused a row: a duplicate (or a bug), never an outage."""
    return isinstance(error, sa_exc.IntegrityError)
