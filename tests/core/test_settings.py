"""Every environment variable README's Configuration table documents is read into the setting
it names: ``LIGHTSPEED_CLIENT_ID`` into ``settings.lightspeed.client_id``, ``STOCKPOT_X`` into
``settings.x``, ``LOG_LEVEL`` into ``settings.log.level``."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest
from pydantic import SecretStr

from stockpot.core.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
SAMPLES = {
    "DATABASE_URL": "postgresql+psycopg://stockpot@db.example/stockpot",
    "STOCKPOT_ENV": "production",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "warning",
    "LIGHTSPEED_AUTH_VERSION": "v1",
    "STOCKPOT_METRICS_PORT": "9123",
    "STOCKPOT_POS_REQUESTS_PER_SECOND": "3.5",
    "STOCKPOT_FORM_CHECK_SECONDS": "1.5",
}


def documented() -> list[str]:
    """The variables in the first column of README's Configuration table."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])]


def setting_named(settings: Settings, variable: str) -> object:
    """The setting a variable names: its group (the prefix) then the rest of its name; the
    ``STOCKPOT_`` settings sit on ``Settings`` itself."""
    name = variable.lower()
    group, _, rest = name.partition("_")
    if group == "stockpot":
        return getattr(settings, rest)
    return getattr(getattr(settings, group), rest)


def shown(value: object) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Enum):
        value = value.value
    return str(value).lower()


def sample(variable: str, default: object) -> str:
    if variable in SAMPLES:
        return SAMPLES[variable]
    if isinstance(default, bool):
        return str(not default).lower()
    if isinstance(default, int):
        return str(default + 7)
    if isinstance(default, float):
        return str(default + 7.5)
    if isinstance(default, Path):
        return "/srv/stockpot-state"
    return f"https://{variable.lower()}.example/"


def test_the_table_documents_every_group():
    names = documented()
    assert len(names) == len(set(names)) > 30
    assert {"DATABASE_URL", "LIGHTSPEED_CLIENT_ID", "SLACK_BOT_TOKEN", "SIDES_API_URL"} <= set(
        names
    )


@pytest.mark.parametrize("variable", documented())
def test_a_documented_variable_is_read_into_the_setting_it_names(variable, monkeypatch):
    default = setting_named(Settings(), variable)
    value = sample(variable, default)
    monkeypatch.setenv(variable, value)
    read = setting_named(Settings(), variable)
    assert shown(read) == value.lower(), f"{variable}={value} was read as {read!r}"
    assert shown(read) != shown(default)


@pytest.mark.parametrize("variable", documented())
def test_the_demo_and_benchmarks_set_a_variable_by_its_name_too(variable):
    """``Settings.from_variables`` takes the documented names, as the demo passes them."""
    value = sample(variable, setting_named(Settings(), variable))
    read = setting_named(Settings.from_variables(**{variable: value}), variable)
    assert shown(read) == value.lower(), f"{variable}={value} was read as {read!r}"


def test_a_group_given_by_name_keeps_the_rest_of_its_prefix_from_the_environment(monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "from-the-environment")
    settings = Settings.from_variables(SLACK_BOT_TOKEN="xoxb-given")
    assert settings.slack.bot_token.get_secret_value() == "xoxb-given"
    assert settings.slack.signing_secret.get_secret_value() == "from-the-environment"


@pytest.mark.parametrize("variable", ["SLACK_BOT_TOKN", "STOCKPOT_WORKERS", "STOCKPOT_SLACK"])
def test_a_name_no_setting_has_is_refused(variable):
    with pytest.raises(ValueError, match=f"{variable} is not a Stockpot setting"):
        Settings.from_variables(**{variable: "1"})


@pytest.mark.parametrize(
    "variable",
    [
        "SIDES_API_URL",
        "LIGHTSPEED_API_URL",
        "LIGHTSPEED_AUTH_URL",
        "SLACK_API_URL",
        "SLACK_AUTHORIZE_URL",
    ],
)
@pytest.mark.parametrize("value", ["not a url", "pos.example.org", "ftp://pos.example.org"])
def test_an_address_without_its_scheme_and_host_is_refused_by_name(variable, value):
    """`SIDES_API_URL=not a url` passed, and `stockpot check` said SIDES "did not answer
    (UnsupportedProtocol…)", as if it were down."""
    from pydantic import ValidationError

    from stockpot.core.settings import settings_problem

    with pytest.raises(ValidationError) as refused:
        Settings.from_variables(**{variable: value})
    said = settings_problem(refused.value)
    assert (
        said
        == f"{variable}: write the address with its scheme and host, e.g. https://api.example.com"
    )
    assert value not in said


def test_an_address_is_kept_as_given():
    settings = Settings.from_variables(SIDES_API_URL=" http://127.0.0.1:8123 ")
    assert settings.sides.api_url == "http://127.0.0.1:8123"
