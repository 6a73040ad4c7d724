"""The one error hierarchy of StreamOps.

::

    BotError
    ├── ConfigError                 a setting is missing or invalid
    ├── UserFacingError             a known business reason; shown to the user in words
    │   ├── NotAuthorized           the user lacks the role for the action
    │   ├── NotFound                the named thing does not exist (locally)
    │   ├── InvalidInput            a command argument is wrong
    │   └── Conflict                the action was already done, or is in progress
    └── ProviderError               a provider refused or failed a call
        ├── AuthFailed              bad or missing API key / user id / signature
        ├── Forbidden               the key is valid but may not touch this resource
        ├── ProviderNotFound        the provider says the resource does not exist
        ├── RateLimited             too many requests; ``retry_after`` seconds to wait
        ├── InvalidRequest          the provider rejected the parameters
        └── ProviderUnavailable     timeout, connection error, 5xx, unparseable reply

Provider errors carry the provider's own message, never a secret: the clients
build them from response bodies and status codes, not from request URLs.

A :class:`UserFacingError`'s message is Slack mrkdwn, shown as it is: any word a user
typed or a provider sent is escaped where the error is raised (``bot.mrkdwn.esc`` /
``code``). A :class:`ProviderError`'s message is the provider's raw text, escaped where
it is shown.
"""

from __future__ import annotations

# The root and the user-facing reasons live at the bottom layer, so storage can raise them
# without importing bot; they are re-exported here, the one place to import errors from.
from storage.errors import (
    BotError,
    ConfigError,
    Conflict,
    InvalidInput,
    NotAuthorized,
    NotFound,
    UserFacingError,
)

__all__ = [
    "AuthFailed",
    "BotError",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "InvalidRequest",
    "NotAuthorized",
    "NotFound",
    "ProviderError",
    "ProviderNotFound",
    "ProviderUnavailable",
    "RateLimited",
    "UserFacingError",
]


class ProviderError(BotError):
    """A provider refused or failed a call.

    Attributes:
        provider: ``"streampixel"``, ``"streamstack"`` or ``"streamapi"``.
        message: the provider's own words (safe to show to users).
        status: the HTTP status, when there was one.
        code: the provider's error code (StreamAPI ``<code>``), when there was one.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status = status
        self.code = code


class AuthFailed(ProviderError):
    """The provider did not accept our credentials or signature."""


class Forbidden(ProviderError):
    """The credentials are valid but may not act on this resource."""


class ProviderNotFound(ProviderError):
    """The provider says the resource does not exist."""


class RateLimited(ProviderError):
    """The provider asked us to slow down.

    Attributes:
        retry_after: seconds to wait before the next attempt, when known.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        code: int | None = None,
    ) -> None:
        super().__init__(provider, message, status=status, code=code)
        self.retry_after = retry_after


class InvalidRequest(ProviderError):
    """The provider rejected the request's parameters."""


class ProviderUnavailable(ProviderError):
    """The provider timed out, could not be reached, or failed (5xx)."""
