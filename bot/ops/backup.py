"""Backup and restore of one install: the database, the photos (data_dir/media) and the category
model, in one tar file with a manifest of checksums.

SQLite is copied with its online backup API (consistent while the bot runs); PostgreSQL with
`pg_dump --format=custom`. The archive is read back and checked after writing. A restore goes
into an empty install only, and ends by walking the audit chain.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from ..errors import BotError

FORMAT = 1


class BackupError(BotError):
    """A backup could not be written or checked, or a restore was refused; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://… as pg_dump / pg_restore read it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str]) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed: apt-get install postgresql-client") from None
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")


def _counts(bot) -> dict:
    from ..models import Ticket, TicketEvent

    with bot.db.session() as session:
        return {"tickets": session.scalar(select(func.count()).select_from(Ticket)),
                "ticket_events": session.scalar(select(func.count()).select_from(TicketEvent))}


def _files(bot) -> list[tuple[Path, str]]:
    """Media and model files to keep, with their names in the archive."""
    data_dir = Path(bot.cfg["data_dir"])
    found = []
    media = data_dir / "media"
    if media.is_dir():
        found += [(p, "media/" + p.relative_to(media).as_posix()) for p in sorted(media.rglob("*")) if p.is_file()]
    model = bot.cfg["nlp"].get("model")
    if model and Path(model).is_file():
        found.append((Path(model), "models/" + Path(model).name))
    return found


def backup(bot, out: str | None = None) -> tuple[Path, dict]:
    """Writes a backup archive and checks it; returns its path and manifest."""
    now = datetime.now(timezone.utc)
    target = Path(out) if out else Path(bot.cfg["data_dir"]) / "backups" / f"backup-{now:%Y%m%d-%H%M%S}.tar"
    if target.is_dir() or target.suffix != ".tar":   # a folder: a dated file inside it
        target = target / f"backup-{now:%Y%m%d-%H%M%S}.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    current, _ = bot.db.revisions()
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        work = Path(work)
        if bot.db.is_sqlite:
            dump = work / "database.sqlite"
            source = sqlite3.connect(make_url(bot.db.url).database)
            copy = sqlite3.connect(dump)
            try:
                source.backup(copy)      # a consistent copy while others write
            finally:
                copy.close()
                source.close()
        else:
            dump = work / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump),
                  "--dbname", _libpq_url(bot.db.url)])
        entries = [(dump, dump.name), *_files(bot)]
        manifest = {"format": FORMAT, "created_at": now.isoformat(), "dialect": "sqlite" if bot.db.is_sqlite
                    else "postgresql", "schema": sorted(current), "counts": _counts(bot),
                    "files": {name: _sha256(path) for path, name in entries}}
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for path, name in entries:
                tar.add(path, arcname=name)
        check(partial)
        os.replace(partial, target)
    return target, manifest


def check(archive: Path) -> dict:
    """Reads an archive back: every file present with its checksum, the database readable."""
    try:
        with tarfile.open(archive) as tar, tempfile.TemporaryDirectory() as work:
            manifest = json.loads(tar.extractfile("manifest.json").read())
            names = set(tar.getnames())
            for name, digest in manifest["files"].items():
                if name not in names:
                    raise BackupError(f"{archive}: {name} is missing")
                tar.extract(name, work, filter="data")
                if _sha256(Path(work) / name) != digest:
                    raise BackupError(f"{archive}: {name} does not match its checksum")
            if manifest["dialect"] == "sqlite":
                conn = sqlite3.connect(Path(work) / "database.sqlite")
                try:
                    if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                        raise BackupError(f"{archive}: the database copy fails its integrity check")
                    tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
                finally:
                    conn.close()
                if tickets != manifest["counts"]["tickets"]:
                    raise BackupError(f"{archive}: the copy has {tickets} tickets, the manifest says "
                                      f"{manifest['counts']['tickets']}")
            else:
                _run(["pg_restore", "--list", str(Path(work) / "database.pgdump")])
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{archive} is not a readable backup: {exc}") from None
    return manifest


def _is_empty(bot) -> bool:
    tables = set(inspect(bot.db.engine).get_table_names())
    if "tickets" not in tables:
        return True
    from ..models import Ticket

    with bot.db.session() as session:
        return not session.scalar(select(func.count()).select_from(Ticket))


def restore(bot, archive: str) -> dict:
    """Restores an archive into this install's empty database and data_dir; returns its manifest."""
    path = Path(archive)
    manifest = check(path)
    dialect = "sqlite" if bot.db.is_sqlite else "postgresql"
    if manifest["dialect"] != dialect:
        raise BackupError(f"the backup is of a {manifest['dialect']} database, this install uses {dialect}")
    if not _is_empty(bot):
        raise BackupError("this install's database already holds tickets: restore into an empty install "
                          "(a new database.url and data_dir)")
    data_dir = Path(bot.cfg["data_dir"])
    with tarfile.open(path) as tar, tempfile.TemporaryDirectory() as work:
        tar.extractall(work, filter="data")
        work = Path(work)
        if dialect == "sqlite":
            bot.db.engine.dispose()
            database = Path(make_url(bot.db.url).database)
            for suffix in ("-wal", "-shm"):
                Path(str(database) + suffix).unlink(missing_ok=True)
            source = sqlite3.connect(work / "database.sqlite")
            copy = sqlite3.connect(database)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            bot.db.engine.dispose()
            _run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
                  "--dbname", _libpq_url(bot.db.url), str(work / "database.pgdump")])
        for name in manifest["files"]:
            if name.startswith("media/"):
                dest = data_dir / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / name, dest)
            elif name.startswith("models/"):
                model = bot.cfg["nlp"].get("model") or str(data_dir / Path(name).name)
                Path(model).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / name, model)
    from .. import kv

    for key in bot.redis.scan_iter(kv.key("ticket-no", "*")):   # counters start again from the database
        bot.redis.delete(key)
    return manifest
