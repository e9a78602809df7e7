"""党员留言互动: a WeChat / WeCom chatbot backend for grassroots governance."""
from .app import Bot, create_app

__all__ = ["Bot", "create_app"]
