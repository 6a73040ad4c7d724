"""The root of the error tree and the user-facing reasons (re-exported by ``bot.errors``).

They live here, at the bottom layer, so that storage can refuse a request in words
(a bad audit filter, a purge that would destroy evidence) without importing ``bot``.
Import them from :mod:`bot.errors` everywhere above storage.
"""

from __future__ import annotations


class BotError(Exception):
    """Root of every error StreamOps raises on purpose."""


class ConfigError(BotError):
    """A required setting is missing or has an invalid value."""


class UserFacingError(BotError):
    """The request did not proceed for a reason the user should read."""


class NotAuthorized(UserFacingError):
    """The Slack user does not hold a role that allows the action."""


class NotFound(UserFacingError):
    """The named project, build, video or session is not known."""


class InvalidInput(UserFacingError):
    """A command argument or form value is malformed."""


class Conflict(UserFacingError):
    """The action was already done or is under way."""
