"""Command line: python -m bot serve | web | worker | scheduler | initdb | org sync | chat | qr create."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from .errors import ConfigError, OrgFileError, PlatformError
from .ops.backup import BackupError
from .privacy import install_log_masking


def _app(prepare: bool = False):
    from .app import create_app

    return create_app(prepare=prepare)


def _bot():
    from .app import Bot
    from .config import load_config
    from .ops.logs import setup_logging

    cfg = load_config()
    setup_logging(cfg)
    bot = Bot(cfg)
    bot.start()
    return bot


def _config() -> dict:
    from .config import load_config

    return load_config()


def _point_fake_at(app, host: str, port: int) -> None:
    """Dev: the fake platform's URLs follow the port actually served (make run PORT=8002)."""
    from urllib.parse import urlsplit, urlunsplit

    from .config import follow_port

    bot = app.extensions["bot"]
    follow_port(bot.cfg, host, port)   # dashboard / ticket page links too (#20)
    if not bot.cfg["dev"]["fake_platform"]:
        return
    here = f"{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
    for channel, key in (("wechat", "api_base_url"), ("wechat", "qrcode_url"), ("wecom", "api_base_url")):
        parts = urlsplit(bot.cfg[channel][key])
        if parts.path.startswith("/_fake/") and parts.hostname in ("127.0.0.1", "localhost"):
            bot.cfg[channel][key] = urlunsplit(parts._replace(netloc=here))
    for channel, client in bot.platform.clients.items():
        client.API_BASE_URL = bot.cfg[channel]["api_base_url"]


def _banner(app, host: str, port: int) -> None:
    cfg = app.extensions["bot"].cfg
    base = f"http://{host}:{port}"
    print(f"党员留言互动 is listening on {base}")
    print(f"  Official Account callback URL: {base}/wechat   (token: {cfg['wechat']['token']})")
    print(f"  WeCom app callback URL:        {base}/wecom")
    if cfg["dev"]["console"]:
        print(f"  dev console (resident + member side by side): {base}/dev/")
    if cfg["metrics"].get("token"):
        print(f"  Prometheus metrics (bearer metrics.token):    {base}/metrics")
    if cfg["dev"]["fake_platform"]:
        print(f"  fake WeChat/WeCom APIs:        {base}/_fake/ (outbound messages land here)")
    print(f"  talk to it:  .venv/bin/python -m bot chat --as resident alice --url {base}")
    print(f"               .venv/bin/python -m bot chat --as member pm01 --url {base}")
    sys.stdout.flush()


def _stop_on_signals(stop: threading.Event):
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def cmd_serve(args) -> int:
    """Web, outbox worker and scheduler in one process (one machine)."""
    from waitress import create_server

    from .outbox import OutboxWorker
    from .scheduler import run_scheduler

    app = _app(prepare=True)   # one process: it may migrate and sync the organisation itself
    stop = threading.Event()
    worker = OutboxWorker(app.extensions["bot"])
    threads = [threading.Thread(target=worker.run_forever, name="outbox", daemon=True),
               threading.Thread(target=run_scheduler, args=(app, stop), name="scheduler", daemon=True)]
    for thread in threads:
        thread.start()
    server = create_server(app, host=args.host, port=args.port, threads=8)
    _point_fake_at(app, args.host, server.effective_port)
    _banner(app, args.host, server.effective_port)

    def shutdown(*_):
        stop.set()
        worker.stop()
        server.close()

    signal.signal(signal.SIGTERM, shutdown)
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        shutdown()
        for thread in threads:  # let them finish with Redis before the embedded server is left
            thread.join(timeout=10)
    return 0


def cmd_web(args) -> int:
    """Only the webhooks (production runs gunicorn on wsgi:app instead)."""
    from waitress import serve

    app = _app()
    _point_fake_at(app, args.host, args.port)
    _banner(app, args.host, args.port)
    serve(app, host=args.host, port=args.port, threads=8)
    return 0


def cmd_worker(_args) -> int:
    """Only the outbox worker."""
    from .outbox import OutboxWorker

    worker = OutboxWorker(_app().extensions["bot"])
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()
    return 0


def cmd_scheduler(_args) -> int:
    """Only the scheduler (a second one stands by)."""
    from .scheduler import run_scheduler

    stop = threading.Event()
    _stop_on_signals(stop)
    run_scheduler(_app(), stop)
    return 0


def cmd_initdb(_args) -> int:
    """Creates or upgrades the database schema and loads the organisation file."""
    from .app import Bot
    from .config import load_config

    Bot(load_config()).prepare()
    print("database is up to date")
    return 0


def cmd_org_sync(_args) -> int:
    """Loads the organisation file into the database."""
    from .app import Bot
    from .config import load_config

    bot = Bot(load_config())
    bot.migrate()
    counts = bot.sync_org()  # unlike start-up, a bad file is an error here
    print("organisation synced: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def cmd_menu_create(args) -> int:
    """Checks the menu from the settings and sends it (Official Account, or --wecom the WeCom app)."""
    from .ops.menu import build_menu, create_menu

    bot = _bot()
    channel = "wecom" if args.wecom else "wechat"
    if args.dry_run:
        print(json.dumps(build_menu(bot, channel), ensure_ascii=False, indent=1))
        return 0
    body = create_menu(bot, channel)
    print(f"menu.{channel} created: " + " | ".join(b["name"] for b in body["button"]))
    return 0


def cmd_backup(args) -> int:
    """Writes a checked backup of the database, photos and category model to one tar file."""
    from .ops.backup import backup

    path, manifest = backup(_bot(), args.out)
    print(f"backup written and checked: {path} ({manifest['counts']['tickets']} tickets, "
          f"{len(manifest['files'])} files)")
    return 0


def cmd_restore(args) -> int:
    """Restores a backup into an empty install, then walks the audit chain."""
    from .app import Bot
    from .audit import verify
    from .config import load_config
    from .ops.backup import restore

    bot = Bot(load_config())
    manifest = restore(bot, args.archive)
    bot.check_schema()
    with bot.db.session() as session:
        verdict = verify(session)
    print(f"restored {manifest['counts']['tickets']} tickets from {args.archive} "
          f"(written {manifest['created_at']})")
    if not verdict.ok:
        print("audit chain BROKEN after restore at " + json.dumps(verdict.broken, ensure_ascii=False))
        return 1
    print(f"audit chain intact: {verdict.checked} records")
    return 0


def cmd_org_pull(args) -> int:
    """Merges WeCom's members and departments into org.yaml (roles, grids, skills stay) and syncs it."""
    from .ops.orgpull import pull

    notes, diff = pull(_bot(), args.dry_run, args.department)
    if args.dry_run:
        print(diff or "no change")
    for note in notes:
        print(note)
    if not notes:
        print("org.yaml already matches WeCom's contacts")
    elif not args.dry_run:
        print("org.yaml updated (the old one is org.yaml.bak) and synced")
    return 0


def cmd_chat(args) -> int:
    """Talks to the running bot as a resident or member, through real signed callbacks."""
    from .chat import chat

    return chat(args.role, args.user_id, args.url)


def cmd_qr_create(args) -> int:
    """Asks the platform for a permanent QR code for every grid and saves the images."""
    from .qrcodes import create_grid_codes

    bot = _bot()
    for grid_id, path in create_grid_codes(bot, args.out):
        print(f"{grid_id}: {path}")
    return 0


def cmd_report_appraisal(args) -> int:
    """Writes the month's member appraisal as CSV (to a file or standard output)."""
    import csv

    from .appraisal import CSV_COLUMNS, appraise

    bot = _bot()
    with bot.db.session() as session:
        report = appraise(bot, session, args.month)
    out = open(args.out, "w", newline="", encoding="utf-8-sig") if args.out else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(report["members"])
    finally:
        if args.out:
            out.close()
    return 0


def cmd_audit_verify(_args) -> int:
    """Walks the audit chain; prints the first broken link and exits 1 if there is one."""
    from .audit import verify

    bot = _bot()
    with bot.db.session() as session:
        verdict = verify(session)
    if verdict.ok:
        waiting = f"; {verdict.unsealed} newer records wait for the sealer" if verdict.unsealed else ""
        print(f"audit chain intact: {verdict.checked} records, head #{verdict.head_seq}{waiting}")
        return 0
    print("audit chain BROKEN at " + json.dumps(verdict.broken, ensure_ascii=False))
    return 1


def cmd_points_reverse(args) -> int:
    """Cancels a points entry with a reversing entry."""
    from .points import reverse

    bot = _bot()
    with bot.db.session() as session:
        entry = reverse(session, args.entry_id, args.reason, "admin:cli", bot.clock.now())
    print(f"reversed by entry {entry.id}" if entry else "nothing to reverse (unknown or already reversed)")
    return 0 if entry else 1


def cmd_nlp_train(args) -> int:
    """Trains the category model from a CSV file or from the tickets' history."""
    from .classifier import ModelError, read_csv, save, train
    from .routing.retrain import labelled_history

    try:
        if args.from_history:
            bot = _bot()
            with bot.db.session() as session:
                texts, labels = labelled_history(session)
            source = "history"
        else:
            if not (args.csv and args.text_column and args.label_column):
                print("error: give --csv, --text-column and --label-column, or --from-history", file=sys.stderr)
                return 2
            texts, labels = read_csv(args.csv, args.text_column, args.label_column)
            source = args.csv
        document = train(texts, labels, source)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save(document, args.out)
    print(json.dumps({"model": args.out, "n": document["n"], "categories": document["categories"]},
                     ensure_ascii=False))
    return 0


def cmd_nlp_eval(args) -> int:
    """Scores the model (or, without one, the keyword rules) on a labelled CSV: one JSON line.

    With --folds N it trains and scores the model by stratified N-fold cross-validation instead."""
    from .classifier import ModelError, evaluate, load, read_csv
    from .nlp import Classifier
    from .tickets import keyword_classifier

    try:
        texts, labels = read_csv(args.csv, args.text_column, args.label_column)
        if args.folds:
            from .classifier import cross_validate

            if args.folds < 2 or min(labels.count(c) for c in set(labels)) < args.folds:
                print("error: --folds needs 2 or more, and at least that many examples per category",
                      file=sys.stderr)
                return 2
            result = cross_validate(texts, labels, folds=args.folds)
            del result["margins"], result["classes"]
            print(json.dumps({"classifier": f"model, {args.folds}-fold", **result}, ensure_ascii=False))
            return 0
        path = args.model or (None if args.rules else _config().get("nlp", {}).get("model"))
        classifier: Classifier
        if path:
            classifier = load(path)
        else:
            bot = _bot()
            with bot.db.session() as session:
                classifier = keyword_classifier(session)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"classifier": path or "rules", **evaluate(classifier.classify, texts, labels)},
                     ensure_ascii=False))
    return 0


def cmd_nlp_suggest_keywords(args) -> int:
    """Suggests keywords per category from the labelled history (or a labelled CSV): one JSON line each."""
    from .classifier import ModelError, read_csv
    from .routing.keywords import suggest
    from .routing.retrain import labelled_history
    from .tickets import keyword_classifier

    bot = _bot() if not args.csv else None
    try:
        if args.csv:
            if not (args.text_column and args.label_column):
                print("error: with --csv give --text-column and --label-column", file=sys.stderr)
                return 2
            texts, labels = read_csv(args.csv, args.text_column, args.label_column)
            current: dict = {}
        else:
            with bot.db.session() as session:
                texts, labels = labelled_history(session)
                current = dict(keyword_classifier(session).categories)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not texts:
        print("error: no labelled tickets yet (recategorised, transferred to a category, or handled to the end)",
              file=sys.stderr)
        return 1
    for category, words in suggest(texts, labels, top=args.top, min_count=args.min_count).items():
        print(json.dumps({"category": category, "n": labels.count(category), "suggested": words,
                          "new": [w for w in words if w not in current.get(category, [])]}, ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    """Parses the command line and runs one command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="党员留言互动 chatbot backend")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in (("serve", cmd_serve), ("web", cmd_web)):
        p = sub.add_parser(name, help=fn.__doc__)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.set_defaults(fn=fn)
    for name, fn in (("worker", cmd_worker), ("scheduler", cmd_scheduler), ("initdb", cmd_initdb)):
        sub.add_parser(name, help=fn.__doc__).set_defaults(fn=fn)
    org = sub.add_parser("org", help="organisation file").add_subparsers(dest="org_command", required=True)
    org.add_parser("sync", help=cmd_org_sync.__doc__).set_defaults(fn=cmd_org_sync)
    p = org.add_parser("pull", help=cmd_org_pull.__doc__)
    p.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    p.add_argument("--department", type=int, default=1, help="the WeCom department to start from (1: the root)")
    p.set_defaults(fn=cmd_org_pull)
    qr = sub.add_parser("qr", help="QR codes").add_subparsers(dest="qr_command", required=True)
    p = qr.add_parser("create", help=cmd_qr_create.__doc__)
    p.add_argument("--out", default=None, help="folder for the images (default: data_dir/qrcodes)")
    p.set_defaults(fn=cmd_qr_create)
    report = sub.add_parser("report", help="reports").add_subparsers(dest="report_command", required=True)
    p = report.add_parser("appraisal", help=cmd_report_appraisal.__doc__)
    p.add_argument("--month", required=True, help="e.g. 2026-11")
    p.add_argument("--out", default=None, help="CSV file (default: standard output)")
    p.set_defaults(fn=cmd_report_appraisal)
    audit = sub.add_parser("audit", help="the tamper-evident record") \
        .add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help=cmd_audit_verify.__doc__).set_defaults(fn=cmd_audit_verify)
    pts = sub.add_parser("points", help="the points ledger").add_subparsers(dest="points_command", required=True)
    p = pts.add_parser("reverse", help=cmd_points_reverse.__doc__)
    p.add_argument("entry_id", type=int)
    p.add_argument("--reason", required=True)
    p.set_defaults(fn=cmd_points_reverse)
    nlp = sub.add_parser("nlp", help="the category model").add_subparsers(dest="nlp_command", required=True)
    p = nlp.add_parser("train", help=cmd_nlp_train.__doc__)
    p.add_argument("--csv")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--from-history", action="store_true", help="learn from tickets members handled or recategorised")
    p.add_argument("--out", default="var/category-model.pkl")
    p.set_defaults(fn=cmd_nlp_train)
    p = nlp.add_parser("eval", help=cmd_nlp_eval.__doc__)
    p.add_argument("--csv", required=True)
    p.add_argument("--text-column", required=True, help="a column, or several joined with + (title+text)")
    p.add_argument("--label-column", required=True)
    p.add_argument("--model", default=None, help="a model file (default: nlp.model)")
    p.add_argument("--rules", action="store_true", help="score the keyword rules even when a model is set")
    p.add_argument("--folds", type=int, default=0, help="cross-validate a new model on the CSV (e.g. 5)")
    p.set_defaults(fn=cmd_nlp_eval)
    menu = sub.add_parser("menu", help="the custom menus").add_subparsers(dest="menu_command", required=True)
    p = menu.add_parser("create", help=cmd_menu_create.__doc__)
    p.add_argument("--wecom", action="store_true", help="the WeCom app's menu instead of the Official Account's")
    p.add_argument("--dry-run", action="store_true", help="check and print the menu, send nothing")
    p.set_defaults(fn=cmd_menu_create)
    p = sub.add_parser("backup", help=cmd_backup.__doc__)
    p.add_argument("--out", default=None, help="a file or folder (default: data_dir/backups/)")
    p.set_defaults(fn=cmd_backup)
    p = sub.add_parser("restore", help=cmd_restore.__doc__)
    p.add_argument("archive", help="a backup-….tar file")
    p.set_defaults(fn=cmd_restore)
    p = nlp.add_parser("suggest-keywords", help=cmd_nlp_suggest_keywords.__doc__)
    p.add_argument("--csv", help="a labelled CSV instead of the tickets' history")
    p.add_argument("--text-column")
    p.add_argument("--label-column")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--min-count", type=int, default=3, help="in at least this many texts of the category")
    p.set_defaults(fn=cmd_nlp_suggest_keywords)
    p = sub.add_parser("chat", help=cmd_chat.__doc__)
    p.add_argument("--as", dest="role", choices=("resident", "member"), required=True)
    p.add_argument("user_id", help="an openid for a resident, a WeCom userid for a member")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.set_defaults(fn=cmd_chat)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        return args.fn(args)
    except (ConfigError, OrgFileError, BackupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PlatformError as exc:
        print(f"error: the platform refused the call: errcode {exc.errcode} {exc.errmsg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        from .kv import release_embedded

        release_embedded()


if __name__ == "__main__":
    sys.exit(main())
