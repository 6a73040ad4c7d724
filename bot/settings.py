"""Typed settings, read once from the environment (and an optional ``.env``).

This is the only module that reads the environment. Everything else receives
a :class:`Settings` instance from the composition root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from bot.errors import ConfigError
from storage.audit_keys import AuditKeyError, KeyRing, decode_key, split_keys


class Settings(BaseSettings):
    """Every setting StreamOps reads. Field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
        populate_by_name=True,
    )

    slack_bot_token: SecretStr = Field(alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    database_url: str = Field(default="sqlite+aiosqlite:///./streamops.db", alias="DATABASE_URL")
    auto_migrate: bool = Field(default=True, alias="STREAMOPS_AUTO_MIGRATE")

    streampixel_api_key: SecretStr | None = Field(default=None, alias="STREAMPIXEL_API_KEY")
    streampixel_user_id: str | None = Field(default=None, alias="STREAMPIXEL_USER_ID")
    streampixel_rate_window_seconds: float = Field(
        default=120.0, alias="STREAMPIXEL_RATE_WINDOW_SECONDS", gt=0
    )
    """Streampixel admits one upload and one distribute per account per this long (its
    documented 2 minutes); change it only if Streampixel does, or for a simulator."""
    streampixel_base_url: str = Field(
        default="https://api.streampixel.io/pixelStripeApi", alias="STREAMPIXEL_BASE_URL"
    )
    streamstack_api_key: SecretStr | None = Field(default=None, alias="STREAMSTACK_API_KEY")
    streamstack_base_url: str = Field(
        default="https://streamstack.it", alias="STREAMSTACK_BASE_URL"
    )
    streamapi_key: SecretStr | None = Field(default=None, alias="STREAMAPI_KEY")
    streamapi_secret: SecretStr | None = Field(default=None, alias="STREAMAPI_SECRET")
    streamapi_base_url: str = Field(
        default="http://api.streamapi.com/service", alias="STREAMAPI_BASE_URL"
    )

    webhook_token: SecretStr | None = Field(default=None, alias="STREAMOPS_WEBHOOK_TOKEN")
    streamapi_poll_seconds: float = Field(
        default=60.0, alias="STREAMOPS_STREAMAPI_POLL_SECONDS", ge=0
    )
    delivery_worker: bool = Field(default=True, alias="STREAMOPS_DELIVERY_WORKER")
    #: Wake the delivery worker when outbox rows commit (storage.outbox_wakeup); when
    #: false it only polls (every 0.5 s) — kept as the benchmark's baseline.
    outbox_wakeup: bool = Field(default=True, alias="STREAMOPS_OUTBOX_WAKEUP")
    #: Under a burst, fold a build's/video's waiting notifications into one edit of its
    #: message and post a digest when a channel's backlog outruns Slack's pace; when
    #: false every notification is delivered on its own (the benchmark's baseline).
    outbox_collapse: bool = Field(default=True, alias="STREAMOPS_OUTBOX_COLLAPSE")
    streamstack_webhook_secret: SecretStr | None = Field(
        default=None, alias="STREAMSTACK_WEBHOOK_SECRET"
    )
    admins: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), alias="STREAMOPS_ADMINS"
    )
    default_channel: str | None = Field(default=None, alias="STREAMOPS_DEFAULT_CHANNEL")

    http_timeout: float = Field(default=10.0, alias="STREAMOPS_HTTP_TIMEOUT", gt=0)
    http_max_connections: int = Field(default=20, alias="STREAMOPS_HTTP_MAX_CONNECTIONS", ge=1)
    provider_cache_seconds: float = Field(
        default=5.0, alias="STREAMOPS_PROVIDER_CACHE_SECONDS", ge=0
    )
    approval_hours: float = Field(default=24.0, alias="STREAMOPS_APPROVAL_HOURS", gt=0)
    log_level: str = Field(default="INFO", alias="STREAMOPS_LOG_LEVEL")
    schedule_grace_minutes: float = Field(
        default=30.0, alias="STREAMOPS_SCHEDULE_GRACE_MINUTES", ge=0
    )
    """A scheduled run found later than this (no replica was up) is reported missed, not run."""
    retention_days: float = Field(default=30.0, alias="STREAMOPS_RETENTION_DAYS", ge=0)
    """Delivered outbox rows and webhook deliveries older than this are deleted (0: never)."""
    reconcile_minutes: float = Field(default=15.0, alias="STREAMOPS_RECONCILE_MINUTES", ge=0)
    """How often StreamStack media are compared with the webhooks received (0: never)."""
    delete_undo_minutes: float = Field(default=10.0, alias="STREAMOPS_DELETE_UNDO_MINUTES", ge=0)
    """A confirmed video delete waits this long with an Undo button (0: delete at once)."""

    #: ``production`` (the default) or ``development``. In production, ``streamops serve``
    #: refuses to start without STREAMOPS_AUDIT_KEY.
    environment: Literal["production", "development"] = Field(
        default="production", alias="STREAMOPS_ENV"
    )
    audit_key: SecretStr | None = Field(default=None, alias="STREAMOPS_AUDIT_KEY")
    #: Retired audit keys (comma- or space-separated): they verify old rows, never sign.
    audit_retired_keys: SecretStr | None = Field(default=None, alias="STREAMOPS_AUDIT_KEYS")
    audit_channel: str | None = Field(default=None, alias="STREAMOPS_AUDIT_CHANNEL")
    audit_witness: Path | None = Field(default=None, alias="STREAMOPS_AUDIT_WITNESS")
    audit_checkpoint_seconds: float = Field(
        default=60.0, alias="STREAMOPS_AUDIT_CHECKPOINT_SECONDS", gt=0, le=60
    )
    audit_verify_hours: float = Field(default=24.0, alias="STREAMOPS_AUDIT_VERIFY_HOURS", ge=0)

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        from bot.database_url import check_database_url

        return check_database_url(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("streampixel_base_url", "streamstack_base_url", "streamapi_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("audit_channel", "audit_witness", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("audit_key", "audit_retired_keys")
    @classmethod
    def _valid_audit_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            for text in split_keys(value.get_secret_value()):
                decode_key(text)
        except AuditKeyError as exc:
            raise ValueError(str(exc)) from None
        return value

    def audit_keys(self) -> KeyRing:
        """The current audit key and the retired ones."""
        current = self.audit_key.get_secret_value() if self.audit_key else None
        retired = self.audit_retired_keys.get_secret_value() if self.audit_retired_keys else None
        return KeyRing.from_texts(current, split_keys(retired))

    def require_audit_key(self) -> None:
        """Refuse to run in production without an audit key.

        Raises:
            ConfigError: STREAMOPS_ENV is production (the default) and STREAMOPS_AUDIT_KEY is unset.
        """
        if self.environment == "production" and self.audit_key is None:
            raise ConfigError(
                "missing required setting STREAMOPS_AUDIT_KEY: production (STREAMOPS_ENV,"
                " the default) keeps a keyed audit log. Make a key with"
                " `streamops audit keygen`, or set STREAMOPS_ENV=development to run without one"
            )


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, raising one readable :class:`ConfigError`.

    Args:
        overrides: values that take precedence over the environment (by alias name).

    Raises:
        ConfigError: naming the first missing or invalid setting.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # values come from the environment
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        if first["type"] == "missing":
            raise ConfigError(f"missing required setting {name}") from None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {name}: {message}") from None
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
