"""The custom menus: the Official Account's (residents) and the WeCom app's (members), from
the `menu` settings, checked against the platforms' limits and the keys the bot understands
before `python -m bot menu create [--wecom]` sends them. The dev console shows the same menu."""
from __future__ import annotations

from ..errors import ConfigError, PlatformError

# At most 3 buttons, each with at most 5 sub-buttons; names in GBK bytes (4 / 8 hanzi shown).
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
# Member menu keys and the command each one stands for (handlers/wecom_menu.py).
WECOM_KEYS = ("MY_QUEUE", "OVERDUE", "CHECKIN", "POINTS", "HELP")


def known_keys(bot, channel: str) -> set[str]:
    """The click keys the bot answers on a channel."""
    if channel == "wecom":
        return set(WECOM_KEYS)
    keys = {"MY_TICKETS"}
    for flow in bot.engine.flows.values():
        if flow.channel == channel:
            keys |= set(flow.menu_keys)
    return keys


def _name_bytes(name: str) -> int:
    return len(name.encode("gbk", errors="replace"))


def _button(item, where: str, keys: set[str], limit: int) -> dict:
    if not isinstance(item, dict) or not str(item.get("name") or "").strip():
        raise ConfigError(f"{where} needs a name")
    name = str(item["name"]).strip()
    if _name_bytes(name) > limit:
        raise ConfigError(f"{where} name {name!r} is too long ({limit} bytes at most, a hanzi counts 2)")
    if item.get("url"):
        url = str(item["url"])
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where} url must start with http:// or https://")
        return {"type": "view", "name": name, "url": url}
    key = str(item.get("key") or "")
    if key not in keys:
        raise ConfigError(f"{where} key {key!r} is not one the bot answers; use one of "
                          + ", ".join(sorted(keys)))
    return {"type": "click", "name": name, "key": key}


def build_menu(bot, channel: str) -> dict:
    """The menu/create body for a channel, or ConfigError naming the button and the fix."""
    items = (bot.cfg.get("menu") or {}).get(channel)
    where = f"menu.{channel}"
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where} must be a list of 1 to {MAX_TOP} buttons")
    if len(items) > MAX_TOP:
        raise ConfigError(f"{where} has {len(items)} buttons; the platform shows {MAX_TOP} at most")
    keys = known_keys(bot, channel)
    buttons = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        subs = item.get("sub_button") if isinstance(item, dict) else None
        if subs is None:
            buttons.append(_button(item, here, keys, TOP_NAME_BYTES))
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
            raise ConfigError(f"{here}.sub_button must list 1 to {MAX_SUB} buttons")
        name = str(item.get("name") or "").strip()
        if not name or _name_bytes(name) > TOP_NAME_BYTES:
            raise ConfigError(f"{here} needs a name of at most {TOP_NAME_BYTES} bytes")
        buttons.append({"name": name, "sub_button": [_button(sub, f"{here}.sub_button[{j}]", keys, SUB_NAME_BYTES)
                                                     for j, sub in enumerate(subs)]})
    return {"button": buttons}


def console_buttons(cfg: dict) -> list[dict]:
    """The resident menu's click buttons, flattened, for the dev console."""
    out = []
    for item in (cfg.get("menu") or {}).get("wechat") or []:
        for button in item.get("sub_button") or [item]:
            if button.get("key"):
                out.append({"name": button["name"], "key": button["key"]})
    return out


def create_menu(bot, channel: str) -> dict:
    """Checks the menu and sends it to the platform; returns what was sent."""
    body = build_menu(bot, channel)
    client = bot.platform.clients[channel]
    params = {"agentid": client.agent_id} if channel == "wecom" else None
    try:
        client.call("post", "menu/create", data=body, params=params)
    except PlatformError as exc:
        raise ConfigError(f"the platform refused menu.{channel}: errcode {exc.errcode} {exc.errmsg}") from None
    return body
