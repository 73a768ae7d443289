"""Configuration from the environment (and a ``.env`` file when present)."""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting has a default that runs Stockpot locally with no accounts."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///stockpot.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias="STOCKPOT_SECRET_KEY",
        description="Fernet key(s), comma-separated, newest first; encrypts POS credentials",
    )
    environment: Environment = Field(
        default=Environment.DEVELOPMENT, validation_alias="STOCKPOT_ENV"
    )
    data_dir: Path = Field(
        default=Path(".stockpot"),
        validation_alias="STOCKPOT_DATA_DIR",
        description="where local state lives (the generated development key)",
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(
        default="text",
        validation_alias="LOG_FORMAT",
        description="json: one JSON object per line with the request, job, company and location",
    )

    lightspeed_client_id: str | None = Field(default=None, validation_alias="LIGHTSPEED_CLIENT_ID")
    lightspeed_client_secret: SecretStr | None = Field(
        default=None, validation_alias="LIGHTSPEED_CLIENT_SECRET"
    )
    lightspeed_redirect_uri: str | None = Field(
        default=None,
        validation_alias="LIGHTSPEED_REDIRECT_URI",
        description="where Lightspeed sends the user back: https://<host>/lightspeed/oauth/callback",
    )
    lightspeed_api_url: str = Field(
        default="https://api.lsk.lightspeed.app",
        validation_alias="LIGHTSPEED_API_URL",
        description="API host; the trial host is https://api.trial.lsk.lightspeed.app",
    )
    lightspeed_auth_url: str = Field(
        default="https://auth.lsk-prod.app",
        validation_alias="LIGHTSPEED_AUTH_URL",
        description="OAuth host: V2 Keycloak (trial https://auth.lsk-demo.app); V1: the API host",
    )
    lightspeed_auth_version: Literal["v1", "v2"] = Field(
        default="v2", validation_alias="LIGHTSPEED_AUTH_VERSION"
    )
    lightspeed_scopes: str = Field(
        default="financial-api items offline_access", validation_alias="LIGHTSPEED_SCOPES"
    )
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_BOT_TOKEN",
        description="single workspace: the bot token (xoxb-…); unset for OAuth installs",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_CLIENT_SECRET"
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_APP_TOKEN",
        description="xapp-… token: run over Socket Mode, no public URL needed",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias="SLACK_API_URL",
        description="Web API base; point it at a stand-in to run without Slack",
    )
    slack_authorize_url: str = Field(
        default="https://slack.com/oauth/v2/authorize",
        validation_alias="SLACK_AUTHORIZE_URL",
        description="where installs send people to approve the app (multi-workspace mode)",
    )
    slack_file_hosts: str = Field(
        default="files.slack.com",
        validation_alias="SLACK_FILE_HOSTS",
        description="hosts (and their subdomains) the bot token may be sent to for downloads",
    )
    slack_response_hosts: str = Field(
        default="hooks.slack.com",
        validation_alias="SLACK_RESPONSE_HOSTS",
        description="hosts (and their subdomains) a request's response_url may point to",
    )
    slack_file_max_bytes: int = Field(
        default=20 * 1024 * 1024, validation_alias="SLACK_FILE_MAX_BYTES"
    )
    csv_max_bytes: int = Field(
        default=200 * 1024 * 1024,
        validation_alias="CSV_MAX_BYTES",
        description="the largest CSV file `stockpot csv import` reads",
    )
    sides_api_url: str | None = Field(
        default=None,
        validation_alias="SIDES_API_URL",
        description="SIDES API base (the part before /api/v1); no public default exists",
    )
    worker_threads: int = Field(
        default=4,
        ge=1,
        validation_alias="STOCKPOT_WORKER_THREADS",
        description="jobs one worker process runs at once (bounds concurrent migrations)",
    )
    job_lease_seconds: float = Field(
        default=300,
        gt=0,
        validation_alias="STOCKPOT_JOB_LEASE_SECONDS",
        description="a running job's lease; renewed every third of it, taken over once expired",
    )
    job_retry_seconds: float = Field(
        default=60,
        ge=0,
        validation_alias="STOCKPOT_JOB_RETRY_SECONDS",
        description="first wait before retrying a transient failure; doubles each attempt",
    )
    job_max_attempts: int = Field(default=5, ge=1, validation_alias="STOCKPOT_JOB_MAX_ATTEMPTS")
    day_open_retry_seconds: float = Field(
        default=1800,
        ge=0,
        validation_alias="STOCKPOT_DAY_OPEN_RETRY_SECONDS",
        description="how long to wait before asking again for a day the POS reports still open",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, validation_alias="STOCKPOT_WORKER_POLL_SECONDS"
    )
    answer_threads: int = Field(
        default=2,
        ge=1,
        validation_alias="STOCKPOT_ANSWER_THREADS",
        description="Slack answers one worker process works out at once, on threads of their "
        "own (never queued behind transfers or migrations)",
    )
    listen_url: SecretStr | None = Field(
        default=None,
        validation_alias="STOCKPOT_LISTEN_URL",
        description="PostgreSQL URL of a direct connection (not PgBouncer in transaction "
        "pooling) on which workers LISTEN for new jobs; default DATABASE_URL",
    )
    listen: bool = Field(
        default=True,
        validation_alias="STOCKPOT_LISTEN",
        description="PostgreSQL: wake workers at once with LISTEN/NOTIFY; off: they poll "
        "every STOCKPOT_WORKER_POLL_SECONDS",
    )
    scheduler_seconds: float = Field(
        default=60,
        gt=0,
        validation_alias="STOCKPOT_SCHEDULER_SECONDS",
        description="how often the scheduler looks for due transfers and reports",
    )
    pos_retry_seconds: float = Field(
        default=0.5,
        ge=0,
        validation_alias="STOCKPOT_POS_RETRY_SECONDS",
        description="first backoff between retries of one POS request (doubling, jittered)",
    )
    pos_requests_per_second: float = Field(
        default=5,
        gt=0,
        validation_alias="STOCKPOT_POS_REQUESTS_PER_SECOND",
        description="requests per second one process sends to one POS connection",
    )

    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        validation_alias="STOCKPOT_METRICS_PORT",
        description="where a worker serves /metrics, /healthz and /readyz (unset: not served)",
    )
    heartbeat_seconds: float = Field(
        default=10,
        gt=0,
        validation_alias="STOCKPOT_HEARTBEAT_SECONDS",
        description="how often a worker records that it is alive",
    )
    ready_heartbeat_seconds: float = Field(
        default=60,
        gt=0,
        validation_alias="STOCKPOT_READY_HEARTBEAT_SECONDS",
        description="/readyz fails when no worker has beaten for this long",
    )
    shutdown_seconds: float = Field(
        default=30,
        ge=0,
        validation_alias="STOCKPOT_SHUTDOWN_SECONDS",
        description="on SIGTERM, how long serve waits for requests in flight",
    )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


CHATTY_LIBRARIES = ("apscheduler", "httpx", "httpcore")


def configure_logging(settings: Settings) -> None:
    from stockpot.core import redaction

    redaction.install()
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        from stockpot.core.log_format import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler])
    if logging.getLogger().level > logging.DEBUG:
        # Library chatter stays out of the terminal unless LOG_LEVEL=DEBUG: APScheduler
        # announces every tick at INFO, httpx every request (each POS call); their warnings
        # and errors still show.
        for chatty in CHATTY_LIBRARIES:
            logging.getLogger(chatty).setLevel(logging.WARNING)
