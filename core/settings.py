"""Configuration from the environment (and a ``.env`` file when present)."""

from __future__ import annotations

import logging
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SLACK_REQUEST_MAX_BYTES = 1024 * 1024
"""The default largest request body the Slack endpoint reads. Slack's requests are a few
kilobytes; the largest it sends, a modal of 100 inputs submitted full (3000 characters each)
with its view, URL-encoded, comes to about 0.8 MB."""

SLACK_REQUEST_MAX_BYTES_RANGE = (256 * 1024, 16 * 1024 * 1024)
"""What ``SLACK_REQUEST_MAX_BYTES`` may be set to: below 256 KiB a large modal's submission
is refused; above 16 MiB each of the HTTP threads may hold that much of one request."""


UNENCODED_AT = "its password holds an '@' not written as %40"
UNENCODED_AT_FIX = (
    "write each '@' in the password as %40 (postgresql+psycopg://user:p%40ss@host/db)"
)


def password_in_host(url: str | URL) -> bool:
    """Whether ``url``'s host holds an ``@``: in ``user:p@ss@host`` the password ends at its
    own ``@`` and everything after it is read as the host, so the "host" is a piece of the
    password (a driver's error, a log line would show it). The one rule for settings and
    ``stockpot check``."""
    try:
        host = make_url(url).host
    except (ArgumentError, ValueError):  # not a URL (a port "54x2"): whoever opens it says so
        return False
    return host is not None and "@" in host


def _readable_url(url: str) -> str:
    if password_in_host(url):
        raise ValueError(f"{UNENCODED_AT}; {UNENCODED_AT_FIX}")
    return url


DATABASE_URL_FORMS = "sqlite:///path/stockpot.db or postgresql+psycopg://user:password@host/db"
PSYCOPG_SCHEMES = ("postgres", "postgresql")
"""Schemes read as PostgreSQL through psycopg, the one driver Stockpot ships: hosts hand out
``postgres://`` (Heroku, Render, Fly) and ``postgresql://`` (libpq's form), which SQLAlchemy
reads as no dialect and as psycopg2."""


def _database_url(url: str) -> str:
    """``DATABASE_URL`` as Stockpot opens it: SQLite, or PostgreSQL through psycopg (a plain
    ``postgres://`` or ``postgresql://`` is read so); anything else is refused with the forms
    that work, never echoed (it may hold a password)."""
    _readable_url(url)
    try:
        drivername = make_url(url).drivername
    except (ArgumentError, ValueError):
        raise ValueError(f"it is not a database URL; write {DATABASE_URL_FORMS}") from None
    backend, _, driver = drivername.partition("+")
    if backend in PSYCOPG_SCHEMES and not driver:
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if backend == "postgresql" and driver != "psycopg":
        raise ValueError(
            "Stockpot talks to PostgreSQL through psycopg; write "
            "postgresql+psycopg://user:password@host/db"
        )
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"Stockpot runs on SQLite or PostgreSQL; write {DATABASE_URL_FORMS}")
    return url


def _web_address(url: str | None) -> str | None:
    """An API or sign-in address: ``http(s)://host…``. ``SIDES_API_URL=not a url`` passed, and
    `stockpot check` said the POS "did not answer (UnsupportedProtocol…)", as if it were down."""
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("write the address with its scheme and host, e.g. https://api.example.com")
    return url.strip()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsGroup(BaseSettings):
    """Settings sharing one environment-variable prefix (each subclass names its own), read
    from the environment and ``.env``: the field ``client_id`` of the ``LIGHTSPEED_`` group is
    ``LIGHTSPEED_CLIENT_ID``. The prefix is written once, not as an alias on every field."""

    # A refused value is never echoed: settings hold passwords and tokens.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)


class DatabaseSettings(SettingsGroup):
    """``DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: str = Field(
        default="sqlite:///stockpot.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host/db",
    )

    _url_usable = field_validator("url")(_database_url)


class LogSettings(SettingsGroup):
    """``LOG_LEVEL`` and ``LOG_FORMAT``."""

    model_config = SettingsConfigDict(env_prefix="LOG_")

    level: str = Field(default="INFO")
    format: Literal["text", "json"] = Field(
        default="text",
        description="json: one JSON object per line with the request, job, company and location",
    )

    @field_validator("level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        """An unknown level (``verbose``) ended every command in logging's traceback."""
        named = level.strip().upper()
        if named not in LOG_LEVELS:
            raise ValueError(f"write one of {', '.join(LOG_LEVELS)}")
        return named


class CsvSettings(SettingsGroup):
    """``CSV_MAX_BYTES``."""

    model_config = SettingsConfigDict(env_prefix="CSV_")

    max_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="the largest CSV file `stockpot csv import` reads",
    )


class LightspeedSettings(SettingsGroup):
    """``LIGHTSPEED_*``: the Lightspeed K-Series API client and hosts."""

    model_config = SettingsConfigDict(env_prefix="LIGHTSPEED_")

    client_id: str | None = Field(default=None)
    client_secret: SecretStr | None = Field(default=None)
    redirect_uri: str | None = Field(
        default=None,
        description="where Lightspeed sends the user back: https://<host>/lightspeed/oauth/callback",
    )
    api_url: str = Field(
        default="https://api.lsk.lightspeed.app",
        description="API host; the trial host is https://api.trial.lsk.lightspeed.app",
    )
    auth_url: str = Field(
        default="https://auth.lsk-prod.app",
        description="OAuth host: V2 Keycloak (trial https://auth.lsk-demo.app); V1: the API host",
    )
    auth_version: Literal["v1", "v2"] = Field(default="v2")
    scopes: str = Field(default="financial-api items offline_access")

    _addresses = field_validator("api_url", "auth_url")(_web_address)


class SlackSettings(SettingsGroup):
    """``SLACK_*``: the Slack app, its hosts and limits."""

    model_config = SettingsConfigDict(env_prefix="SLACK_")

    bot_token: SecretStr | None = Field(
        default=None,
        description="single workspace: the bot token (xoxb-…); unset for OAuth installs",
    )
    signing_secret: SecretStr | None = Field(default=None)
    client_id: str | None = Field(default=None)
    client_secret: SecretStr | None = Field(default=None)
    app_token: SecretStr | None = Field(
        default=None,
        description="xapp-… token: run over Socket Mode, no public URL needed",
    )
    api_url: str = Field(
        default="https://slack.com/api/",
        description="Web API base; point it at a stand-in to run without Slack",
    )
    authorize_url: str = Field(
        default="https://slack.com/oauth/v2/authorize",
        description="where installs send people to approve the app (multi-workspace mode)",
    )
    file_hosts: str = Field(
        default="files.slack.com",
        description="hosts (and their subdomains) the bot token may be sent to for downloads",
    )
    response_hosts: str = Field(
        default="hooks.slack.com",
        description="hosts (and their subdomains) a request's response_url may point to",
    )
    file_max_bytes: int = Field(default=20 * 1024 * 1024)
    request_max_bytes: int = Field(
        default=SLACK_REQUEST_MAX_BYTES,
        ge=SLACK_REQUEST_MAX_BYTES_RANGE[0],
        le=SLACK_REQUEST_MAX_BYTES_RANGE[1],
        description="the largest request body /slack/events reads (413 beyond, before reading)",
    )

    _addresses = field_validator("api_url", "authorize_url")(_web_address)

    @field_validator(
        "bot_token", "signing_secret", "client_id", "client_secret", "app_token", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``SLACK_SIGNING_SECRET=`` (a template's line, a deploy's empty variable) is not
        set: taken as the empty key, it let anyone sign requests as Slack."""
        if isinstance(value, str) and not value.strip():
            return None
        return value


class SidesSettings(SettingsGroup):
    """``SIDES_*``: the SIDES POS API."""

    model_config = SettingsConfigDict(env_prefix="SIDES_")

    api_url: str | None = Field(
        default=None,
        description="SIDES API base (the part before /api/v1); no public default exists",
    )

    _address = field_validator("api_url")(_web_address)


class Settings(SettingsGroup):
    """Every setting has a default that runs Stockpot locally with no accounts. Stockpot's own
    settings are ``STOCKPOT_*`` (``settings.worker_threads`` is ``STOCKPOT_WORKER_THREADS``);
    the others sit in one group per prefix (``settings.slack.bot_token`` is
    ``SLACK_BOT_TOKEN``)."""

    model_config = SettingsConfigDict(env_prefix="STOCKPOT_")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    csv: CsvSettings = Field(default_factory=CsvSettings)
    lightspeed: LightspeedSettings = Field(default_factory=LightspeedSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    sides: SidesSettings = Field(default_factory=SidesSettings)

    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s), comma-separated, newest first; encrypts POS credentials",
    )
    env: Environment = Field(default=Environment.DEVELOPMENT)
    data_dir: Path = Field(
        default=Path(".stockpot"),
        description="where local state lives (the generated development key)",
    )
    worker_threads: int = Field(
        default=4,
        ge=1,
        description="jobs one worker process runs at once (bounds concurrent migrations)",
    )
    job_lease_seconds: float = Field(
        default=300,
        gt=0,
        description="a running job's lease; renewed every third of it, taken over once expired",
    )
    job_retry_seconds: float = Field(
        default=60,
        ge=0,
        description="first wait before retrying a transient failure; doubles each attempt",
    )
    job_max_attempts: int = Field(default=5, ge=1)
    day_open_retry_seconds: float = Field(
        default=1800,
        ge=0,
        description="how long to wait before asking again for a day the POS reports still open",
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    answer_threads: int = Field(
        default=2,
        ge=1,
        description="Slack answers one worker process works out at once, on threads of their "
        "own (never queued behind transfers or migrations)",
    )
    listen_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL of a direct connection (not PgBouncer in transaction "
        "pooling) on which workers LISTEN for new jobs; default DATABASE_URL",
    )
    listen: bool = Field(
        default=True,
        description="PostgreSQL: wake workers at once with LISTEN/NOTIFY; off: they poll "
        "every STOCKPOT_WORKER_POLL_SECONDS",
    )
    scheduler_seconds: float = Field(
        default=60,
        gt=0,
        description="how often the scheduler looks for due transfers and reports",
    )
    pos_retry_seconds: float = Field(
        default=0.5,
        ge=0,
        description="first backoff between retries of one POS request (doubling, jittered)",
    )
    form_check_seconds: float = Field(
        default=2.0,
        gt=0,
        le=2.5,
        description="how long a Slack form's POS sign-in check may take (the SIDES form): "
        "its answer is due within Slack's 3 s; beyond it the form says so and saves nothing",
    )
    pos_requests_per_second: float | None = Field(
        default=None,
        gt=0,
        description="requests per second one process sends to one POS connection (unset: "
        "the POS's documented policy, Lightspeed 5, SIDES 2; `stockpot pos pace` sets one "
        "connection's)",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="where a worker serves /metrics, /healthz and /readyz (unset: not served)",
    )
    heartbeat_seconds: float = Field(
        default=10,
        gt=0,
        description="how often a worker records that it is alive",
    )
    ready_heartbeat_seconds: float = Field(
        default=60,
        gt=0,
        description="/readyz fails when no worker has beaten for this long",
    )
    shutdown_seconds: float = Field(
        default=30,
        ge=0,
        description="on SIGTERM, how long serve waits for requests in flight",
    )

    @field_validator("secret_key")
    @classmethod
    def _holds_a_key(cls, keys: SecretStr | None) -> SecretStr | None:
        """Set but blank (``STOCKPOT_SECRET_KEY=`` left in a ``.env``), it ended every command
        in an ``IndexError`` traceback."""
        if keys is not None and not keys.get_secret_value().replace(",", "").strip():
            raise ValueError(
                "it is set but holds no key; set it to one `stockpot secret generate` prints "
                "(several comma-separated, newest first), or remove the line"
            )
        return keys

    @field_validator("listen_url")
    @classmethod
    def _listen_url_readable(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            _readable_url(url.get_secret_value())
        return url

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @classmethod
    def from_variables(cls, **variables: object) -> Settings:
        """Settings with these values, given by their environment-variable names (as the demo
        and the benchmarks set them), over what the environment and ``.env`` say. A name no
        setting has is refused rather than silently ignored."""
        groups = {
            field: info.annotation
            for field, info in cls.model_fields.items()
            if isinstance(info.annotation, type) and issubclass(info.annotation, SettingsGroup)
        }
        given: dict[str, dict[str, object]] = {field: {} for field in groups}
        own: dict[str, object] = {}
        for variable, value in variables.items():
            name = variable.upper()
            field = next((f for f, g in groups.items() if name.startswith(_prefix(g))), None)
            model, values = (cls, own) if field is None else (groups[field], given[field])
            setting = name.removeprefix(_prefix(model)).lower()
            if setting not in model.model_fields or setting in groups:
                raise ValueError(f"{variable} is not a Stockpot setting (README, Configuration)")
            values[setting] = value
        built = {field: groups[field](**values) for field, values in given.items() if values}
        return cls(**own, **built)


def _prefix(group: type[SettingsGroup]) -> str:
    return group.model_config.get("env_prefix", "")


def settings_problem(error: ValidationError) -> str:
    """What is wrong with the settings, each refused setting named by its environment
    variable; never the value given (it may be a password)."""
    groups = {group.__name__: group for group in SettingsGroup.__subclasses__()}
    prefix = _prefix(groups[error.title]) if error.title in groups else ""
    said = []
    for problem in error.errors(include_url=False, include_input=False):
        name = (prefix + "_".join(str(part) for part in problem["loc"])).upper()
        said.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(said)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


CHATTY_LIBRARIES = ("apscheduler", "httpx", "httpcore")


def configure_logging(settings: Settings) -> None:
    from stockpot.core import redaction

    redaction.install()
    handler = logging.StreamHandler()
    if settings.log.format == "json":
        from stockpot.core.log_format import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log.level.upper(), handlers=[handler])
    if logging.getLogger().level > logging.DEBUG:
        # Library chatter stays out of the terminal unless LOG_LEVEL=DEBUG: APScheduler
        # announces every tick at INFO, httpx every request (each POS call); their warnings
        # and errors still show.
        for chatty in CHATTY_LIBRARIES:
            logging.getLogger(chatty).setLevel(logging.WARNING)
