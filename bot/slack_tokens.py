"""What each of Slack's answers to a refused token means for the operator, in one place:
``stockpot check`` and ``stockpot serve`` (Bolt's ``auth.test`` at start) say the same fix.

The codes are Slack's own, from every Web API method's errors on docs.slack.dev."""

from __future__ import annotations

SLACK_FIXES = {
    "invalid_auth": "the token is wrong or was revoked: reinstall the app and copy its token",
    "not_authed": "no token was sent: set SLACK_BOT_TOKEN",
    "account_inactive": "the workspace or the bot user was deactivated: reinstall the app",
    "token_revoked": "the token was revoked: reinstall the app and copy its new token",
    "not_allowed_token_type": "this is not an app-level token: create one (connections:write) "
    "under Basic Information → App-Level Tokens and set SLACK_APP_TOKEN",
}
