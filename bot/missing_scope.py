"""A step Slack refuses for a permission the install lacks (``missing_scope``): a workspace
that installed the app granting fewer scopes than the manifest asks for. Told the same way
wherever it is met: which method, which scope, and the fix."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from stockpot.core.errors import StockpotError

log = logging.getLogger(__name__)

MISSING_SCOPE = "missing_scope"
"""What Slack answers a method the install's scopes do not allow, with ``needed``: the scope,
or the scopes any one of which would do, comma-separated (``conversations.info`` takes
``channels:read``, ``groups:read``, ``im:read`` or ``mpim:read``), and ``provided``: the
install's own."""


class MissingPermission(StockpotError):
    """Only a workspace admin installing the app again helps: trying again does not."""

    code = MISSING_SCOPE
    transient = False


def _refused(error: BaseException) -> tuple[str, list[str]] | None:
    """The method Slack refused and the scopes it ``needed`` (any one), for a
    ``missing_scope``."""
    if not isinstance(error, SlackApiError) or error.response.get("error") != MISSING_SCOPE:
        return None
    method = str(error.response.api_url or "").rsplit("/", 1)[-1] or "a call"
    needed = [scope.strip() for scope in str(error.response.get("needed") or "").split(",")]
    return method, [scope for scope in needed if scope]


def _scopes(needed: list[str], quoted: str = "") -> str:
    """``the x scope``, or ``one of the scopes x, y`` (Slack named several, any would do)."""
    named = [f"{quoted}{scope}{quoted}" for scope in needed]
    if not named:
        return "a scope"
    if len(named) == 1:
        return f"the {named[0]} scope"
    return f"one of the scopes {', '.join(named)}"


def lacking(error: BaseException) -> str | None:
    """What the log says of a ``missing_scope``: the method, the scope and the fix (one
    rule for a command's answer and a job's post), else ``None``."""
    refused = _refused(error)
    if refused is None:
        return None
    method, needed = refused
    return (
        f"{method} needs {_scopes(needed)}, which the install lacks; a workspace admin "
        "reinstalls the app to grant it"
    )


def missing_permission(error: Exception) -> MissingPermission | None:
    """``error`` as what the person is told when it is Slack refusing a step for a permission
    the install lacks (one warning line, no traceback: nothing is broken here), else ``None``.
    The steps before it are done (a stock posting is committed before it is announced), so
    they are said to be kept rather than "something went wrong", which invites doing them
    again."""
    refused = _refused(error)
    if refused is None:
        return None
    method, needed = refused
    log.warning("Slack answered %s: %s", MISSING_SCOPE, lacking(error))
    return MissingPermission(
        f"Slack refused Stockpot a step of this (`{method}`): the app lacks "
        f"{_scopes(needed, '`')} in this workspace, as it was installed with fewer permissions "
        "than it asks for. A workspace admin installs Stockpot again to grant it. What was "
        "done before that step is kept: check it before asking again."
    )
