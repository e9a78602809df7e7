"""`python -m bot chat`: talk to a running bot from the terminal, as a resident or a member."""
from __future__ import annotations

import threading
import time

import requests

from . import texts
from .config import load_config
from .fakeplatform import message_view
from .simulator import Person


def describe(body: dict) -> str:
    """A pushed message as a terminal shows it; a card lists its buttons' keys for /card."""
    view = message_view(body)
    if view["kind"] != "template_card":
        return view["text"]
    buttons = "  ".join(f"[{b['text']}: /card {b['key']}]" for b in view["buttons"])
    return f"{view['title']}\n{view['text']}\n{buttons}"


def _show_pushes(url: str, user: str, stop: threading.Event) -> None:
    """Prints messages the bot pushed to this person through the fake platform."""
    seen = 0
    while not stop.is_set():
        try:
            calls = requests.get(f"{url}/_fake/_control/calls", params={"since": seen}, timeout=5).json()
        except (requests.RequestException, ValueError):
            calls = []
        if not isinstance(calls, list):    # no fake platform there (e.g. a production server)
            calls = []
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("seq"), int):
                continue
            seen = max(seen, call["seq"])
            body = call.get("json") or {}
            if call.get("ok") and body.get("touser") == user:
                print("\n" + texts.CHAT_PUSH.format(text=describe(body)) + "\n> ", end="", flush=True)
        stop.wait(1.0)


USAGE = ("/click KEY, /scan SCENE, /photo, /location LAT LNG, /card KEY (a card button), /quit; "
         "any other line is sent as text")


class Unusable(ValueError):
    """A line the terminal chat cannot send; its message says how to write it."""


def send_line(person: Person, line: str):
    """Sends one typed line as the message it stands for; Unusable when it cannot be sent."""
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word == "/click":
        if not rest:
            raise Unusable("usage: /click LEAVE_MESSAGE")
        return person.clicks(rest)
    if word == "/scan":
        if not rest:
            raise Unusable("usage: /scan grid-g1")
        return person.subscribes(rest)
    if word == "/photo":
        return person.sends_photo()
    if word == "/card":
        if not rest:
            raise Unusable("usage: /card reply:20261120-0001 (the key printed under a card)")
        return person.event("template_card_event", rest, TaskId="chat", CardType="button_interaction")
    if word == "/location":
        try:
            lat, lng = (float(x) for x in rest.replace(",", " ").split())
        except ValueError:
            raise Unusable("usage: /location 30.2741 120.1551 (latitude and longitude as numbers)") from None
        return person.shares_location(lat, lng)
    if word.startswith("/") and word != "/":
        raise Unusable(f"unknown command {word}; {USAGE}")
    return person.says(line)


def chat(role: str, user: str, url: str, read=input, write=print) -> int:
    """Reads lines from the terminal and sends each as a text message; /click KEY, /scan SCENE,
    /photo, /location LAT LNG and /card KEY send the other kinds. Nothing typed ends in a traceback."""
    cfg = load_config()
    channel = "wechat" if role == "resident" else "wecom"

    def post(path, query, body):
        res = requests.post(url + path, params=query, data=body, timeout=10)
        return res.status_code, res.content

    person = Person(cfg, channel, user, post)
    stop = threading.Event()
    threading.Thread(target=_show_pushes, args=(url, user, stop), daemon=True).start()
    write(f"chatting with {url} as {role} {user}; {USAGE}")
    try:
        while True:
            line = read("> ").strip()
            if not line:
                continue
            if line == "/quit":
                break
            try:
                answer = send_line(person, line)
            except Unusable as problem:
                write(str(problem))
                continue
            except requests.RequestException:
                write(f"cannot reach the bot at {url}: start it with `python -m bot serve` (or `make run`) "
                      "and try again; nothing was sent")
                continue
            except AssertionError as refused:      # the webhook answered with an error status
                write(f"the bot refused the message: {refused}")
                continue
            write(answer if answer else "(no immediate reply)")
            time.sleep(0.1)
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        stop.set()
    return 0
