"""Personal data masking for everything a member, a log or a digest shows."""
import re

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_pii(text: str) -> str:
    """Masks mobile numbers (138****1234) and ID numbers (110101********1234) in text."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text or "")
    return PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def mask_name(name: str | None) -> str:
    """Shows a person's surname only: 张三 → 张*."""
    if not name:
        return "待分派"
    return name[0] + "*" * max(1, len(name) - 1)


def mask_openid(openid: str) -> str:
    """Shortens a resident's openid to a stable, unlinkable-looking tag for members."""
    return "居民" + openid[-4:] if len(openid) >= 4 else "居民"
