"""Settings, read from the environment (and a `.env` file) in this one place.

Nothing is read at import time: call :func:`load_settings` where a command or the
app starts, and pass the values down.
"""

from __future__ import annotations

from pydantic import ByteSize, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MIB", "Settings", "load_settings"]

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything TraceBot can be configured with; see the README's table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///tracebot.db", validation_alias="TRACEBOT_DATABASE_URL"
    )
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    alert_channel: str | None = Field(default=None, validation_alias="TRACEBOT_ALERT_CHANNEL")
    twilio_auth_token: SecretStr | None = Field(default=None, validation_alias="TWILIO_AUTH_TOKEN")
    public_url: str | None = Field(default=None, validation_alias="TRACEBOT_PUBLIC_URL")
    api_keys: str = Field(default="", validation_alias="TRACEBOT_API_KEYS")
    admins: str = Field(default="", validation_alias="TRACEBOT_ADMINS")
    debug: bool = Field(default=False, validation_alias="TRACEBOT_DEBUG")
    digest_time: str = Field(default="07:00", validation_alias="TRACEBOT_DIGEST_TIME")
    """When the daily digest of lots expiring soon is posted (plant time, HH:MM; "off")."""
    alert_routes: str = Field(default="", validation_alias="TRACEBOT_ALERT_ROUTES")
    """Where alerts go by severity and site: ``critical=C1,warning=C2,site:Riverside=C3,
    site:Riverside/critical=C4``; the most specific route wins, then TRACEBOT_ALERT_CHANNEL."""
    alert_mention: str | None = Field(default=None, validation_alias="TRACEBOT_ALERT_MENTION")
    """Who a critical alert mentions: a Slack user group id (S…), ``here`` or ``channel``."""
    alert_horizon: int = Field(default=7, ge=0, validation_alias="TRACEBOT_ALERT_HORIZON")
    """Events older than this many days are history: recorded and summed up, not posted."""
    alert_check_seconds: float = Field(default=60.0, gt=0, validation_alias="TRACEBOT_ALERT_CHECK")
    """How often ``tracebot serve`` runs the rules a killed write missed and wakes
    snoozed alerts whose time is up (also once at start)."""
    alert_retry_seconds: float = Field(default=2.0, validation_alias="TRACEBOT_ALERT_RETRY")
    """The base pause between tries to post an alert; it grows with each failure."""
    max_slack_body: ByteSize = Field(
        default=ByteSize(1 * MIB), validation_alias="TRACEBOT_MAX_SLACK_BODY"
    )
    """The largest request body ``POST /slack/events`` reads (Slack's are a few KiB)."""
    max_body: ByteSize = Field(default=ByteSize(10 * MIB), validation_alias="TRACEBOT_MAX_BODY")
    """The largest body of any other request (JSON, forms) unless a limit below says more."""
    max_epcis_body: ByteSize = Field(
        default=ByteSize(64 * MIB), validation_alias="TRACEBOT_MAX_EPCIS_BODY"
    )
    """The largest EPCIS document ``POST /api/epcis/capture`` reads."""
    max_image_body: ByteSize = Field(
        default=ByteSize(30 * MIB), validation_alias="TRACEBOT_MAX_IMAGE_BODY"
    )
    """The largest label photo upload ``POST /api/scan`` reads."""
    max_audio_body: ByteSize = Field(
        default=ByteSize(10 * MIB), validation_alias="TRACEBOT_MAX_AUDIO_BODY"
    )
    """The largest WAV recording ``POST /voice/audio`` reads."""

    @property
    def api_key_list(self) -> list[str]:
        return _split(self.api_keys)

    @property
    def admin_list(self) -> list[str]:
        return _split(self.admins)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read the settings now; ``overrides`` win over the environment."""
    return Settings(**overrides)  # type: ignore[arg-type]
