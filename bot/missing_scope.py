"""A step Slack refuses for a permission the install lacks (``missing_scope``): a workspace
that installed the app granting fewer scopes than the manifest asks for. Told the same way
wherever it is met: which method, which scope, and the fix."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from stockpot.core.errors import StockpotError

log = logging.getLogger(__name__)

MISSING_SCOPE = "missing_scope"
"""What Slack answers a method the install's scopes do not allow, with the scope ``needed``
(reference slack.md)."""


class MissingPermission(StockpotError):
    """Only a workspace admin installing the app again helps: trying again does not."""

    code = MISSING_SCOPE
    transient = False


def _refused(error: BaseException) -> tuple[str, str] | None:
    """The method Slack refused and the scope it ``needed``, for a ``missing_scope``."""
    if not isinstance(error, SlackApiError) or error.response.get("error") != MISSING_SCOPE:
        return None
    method = str(error.response.api_url or "").rsplit("/", 1)[-1] or "a call"
    return method, str(error.response.get("needed") or "a scope")


def lacking(error: BaseException) -> str | None:
    """What the log says of a ``missing_scope``: the method, the scope and the fix (one
    rule for a command's answer and a job's post), else ``None``."""
    refused = _refused(error)
    if refused is None:
        return None
    method, needed = refused
    return (
        f"{method} needs the {needed} scope, which the install lacks; a workspace admin "
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
        f"Slack refused Stockpot a step of this (`{method}`): the app lacks Slack's "
        f"`{needed}` permission in this workspace, as it was installed with fewer permissions "
        "than it asks for. A workspace admin installs Stockpot again to grant it. What was "
        "done before that step is kept: check it before asking again."
    )
