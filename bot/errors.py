"""The bot's exception hierarchy: one small tree, caught only at the edges."""


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or invalid; the message names the key and the fix."""


class SchemaError(ConfigError):
    """The database is not at the schema this code needs; the message names the command to run."""


class OrgFileError(BotError):
    """The organisation file is invalid; the message names the line and the reason."""


class RegistrationError(BotError):
    """A flow or handler was declared wrongly; raised at start-up."""


class BadRequest(BotError):
    """A callback that cannot be parsed or decrypted (HTTP 400)."""


class Forbidden(BotError):
    """A callback whose signature or timestamp does not hold (HTTP 403)."""


class PlatformError(BotError):
    """A WeChat / WeCom API call failed; carries the platform's errcode."""

    def __init__(self, errcode, errmsg="", http_status=None):
        super().__init__(f"errcode={errcode} errmsg={errmsg} http={http_status}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.http_status = http_status


class SendInDoubt(PlatformError):
    """A send timed out after the request went out: the platform may have taken it (#17)."""


class Refused(BotError):
    """An action a person may not take now; the message tells them why (nothing changed)."""
