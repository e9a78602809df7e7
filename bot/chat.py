"""`python -m bot chat`: talk to a running bot from the terminal, as a resident or a member."""
from __future__ import annotations

import threading
import time

import requests

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
        for call in calls:
            seen = max(seen, call["seq"])
            body = call.get("json") or {}
            if call.get("ok") and body.get("touser") == user:
                print(f"\n[推送] {describe(body)}\n> ", end="", flush=True)
        stop.wait(1.0)


def chat(role: str, user: str, url: str) -> int:
    """Reads lines from the terminal and sends each as a text message; /click KEY, /scan SCENE,
    /photo, /location LAT LNG and /card KEY send the other kinds."""
    cfg = load_config()
    channel = "wechat" if role == "resident" else "wecom"

    def post(path, query, body):
        res = requests.post(url + path, params=query, data=body, timeout=10)
        return res.status_code, res.content

    person = Person(cfg, channel, user, post)
    stop = threading.Event()
    threading.Thread(target=_show_pushes, args=(url, user, stop), daemon=True).start()
    print(f"chatting with {url} as {role} {user}; /click KEY, /scan SCENE, /photo, "
          "/location LAT LNG, /card KEY (a card button), /quit")
    try:
        while True:
            line = input("> ").strip()
            if not line:
                continue
            if line == "/quit":
                break
            word, _, rest = line.partition(" ")
            if word == "/click":
                answer = person.clicks(rest)
            elif word == "/scan":
                answer = person.subscribes(rest)
            elif word == "/photo":
                answer = person.sends_photo()
            elif word == "/card":
                answer = person.event("template_card_event", rest, TaskId="chat", CardType="button_interaction")
            elif word == "/location":
                lat, _, lng = rest.partition(" ")
                answer = person.shares_location(float(lat), float(lng))
            else:
                answer = person.says(line)
            print(answer if answer else "(no immediate reply)")
            time.sleep(0.1)
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        stop.set()
    return 0
