"""Lightspeed OAuth2 (authorization code): endpoints per auth version, tokens, token requests.

V2 (Keycloak, the default) takes token parameters in the form body; V1 in the query string.
Both authenticate the client with HTTP Basic. Refresh tokens are single-use: every refresh
returns a new one, which must be stored before the new access token is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from stockpot.core.db import utcnow
from stockpot.core.errors import ConfigurationError, StockpotError
from stockpot.core.pos.base import message_of
from stockpot.core.pos.errors import PosError, PosUnavailable
from stockpot.core.pos.http import RetryPolicy, make_client
from stockpot.core.settings import Settings

SERVICE = "Lightspeed"


class LightspeedNotConfigured(ConfigurationError):
    code = "lightspeed_not_configured"


class OAuthExchangeFailed(StockpotError):
    code = "lightspeed_oauth_exchange_failed"


class OAuthClientRefused(PosError):
    """The token endpoint refused Stockpot's own API client (``invalid_client``,
    ``unauthorized_client``): the operator's settings, not a company's authorization, so no
    connection is marked for reconnecting (which would not help)."""

    code = "lightspeed_client_refused"


CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})
"""OAuth errors about the client, not the grant (RFC 6749 §5.2)."""


class OAuthGrantRefused(StockpotError):
    """The token endpoint refused a code or refresh token (``invalid_grant`` and the like)."""

    code = "lightspeed_grant_refused"


class ScopeNotGranted(StockpotError):
    """Lightspeed granted fewer scopes than Stockpot asked for (a user may decline one at
    consent; a client gets only the scopes enabled for it in the Developer Portal)."""

    code = "lightspeed_scope_not_granted"


SCOPE_NEEDS = {
    "offline_access": "it keeps Stockpot signed in; without it Lightspeed signs Stockpot out "
    "within the hour and asks for a reconnect every morning",
    "financial-api": "it lets Stockpot read the day's sales",
    "items": "it lets Stockpot read the items",
}


def refuse_missing_scopes(config: OAuthConfig, granted: str) -> None:
    """Refuse tokens that lack a scope asked for (but ``offline_access`` on V1, which has no
    such scope: its refresh tokens last 14 days). A token answer without ``scope`` was
    granted what was asked (RFC 6749 §5.1)."""
    if not granted.strip():
        return
    needed = [s for s in config.scopes.split() if not (config.v1 and s == "offline_access")]
    missing = [scope for scope in needed if scope not in granted.split()]
    if not missing:
        return
    needs = "; ".join(f"{scope}: {SCOPE_NEEDS[scope]}" for scope in missing if scope in SCOPE_NEEDS)
    raise ScopeNotGranted(
        f"Lightspeed did not grant the {'scopes' if len(missing) > 1 else 'scope'} "
        f"{', '.join(missing)}, so Stockpot did not connect"
        + (f" ({needs})" if needs else "")
        + ". Connect again and approve every permission Lightspeed asks for; if Lightspeed "
        "does not ask for it, the operator has to enable it for Stockpot's API client in the "
        "Lightspeed developer portal"
    )


@dataclass(frozen=True)
class OAuthConfig:
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str
    authorize_url: str
    token_url: str
    token_params_in_query: bool
    v1: bool

    def authorize(self, state: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scopes,
            "state": state,
        }
        return f"{self.authorize_url}?{urlencode(query)}"

    @property
    def start_url(self) -> str:
        """Stockpot's own start link, beside the callback (``…/oauth/start``): it binds the
        authorization to a browser before sending it on to ``authorize``."""
        return urljoin(self.redirect_uri, "start")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def redirect_refused(uri: str) -> None:
    """Lightspeed takes only an HTTPS ``redirect_uri`` (reference lightspeed-kseries.md
    §2.2); loopback HTTP is left for development against the sandbox."""
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.netloc:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise LightspeedNotConfigured(
        f"LIGHTSPEED_REDIRECT_URI is {uri!r}: Lightspeed sends the user back only to an HTTPS "
        "address. Set it to https://<your Stockpot host>/lightspeed/oauth/callback, the URL "
        "registered for the API client in the Lightspeed developer portal"
    )


def oauth_config(settings: Settings) -> OAuthConfig:
    missing = [
        name
        for name, value in (
            ("LIGHTSPEED_CLIENT_ID", settings.lightspeed.client_id),
            ("LIGHTSPEED_CLIENT_SECRET", settings.lightspeed.client_secret),
            ("LIGHTSPEED_REDIRECT_URI", settings.lightspeed.redirect_uri),
        )
        if not value
    ]
    if missing:
        raise LightspeedNotConfigured(
            f"Lightspeed is not configured: set {', '.join(missing)} (register an API client "
            "in the Lightspeed developer portal; see the README)"
        )
    assert settings.lightspeed.client_secret is not None
    redirect_refused(settings.lightspeed.redirect_uri or "")
    base = settings.lightspeed.auth_url.rstrip("/")
    if settings.lightspeed.auth_version == "v2":
        prefix = f"{base}/realms/k-series/protocol/openid-connect"
        authorize_url, token_url, in_query = f"{prefix}/auth", f"{prefix}/token", False
    else:
        authorize_url, token_url, in_query = f"{base}/oauth/authorize", f"{base}/oauth/token", True
    return OAuthConfig(
        client_id=settings.lightspeed.client_id or "",
        client_secret=settings.lightspeed.client_secret.get_secret_value(),
        redirect_uri=settings.lightspeed.redirect_uri or "",
        scopes=settings.lightspeed.scopes,
        authorize_url=authorize_url,
        token_url=token_url,
        token_params_in_query=in_query,
        v1=settings.lightspeed.auth_version != "v2",
    )


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime
    refresh_expires_at: datetime | None
    """``None`` for an offline token, whose refresh token does not expire by time."""
    scope: str

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "refresh_expires_at": (
                self.refresh_expires_at.isoformat() if self.refresh_expires_at else None
            ),
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokens:
        refresh_expires = data.get("refresh_expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            refresh_expires_at=datetime.fromisoformat(refresh_expires) if refresh_expires else None,
            scope=data.get("scope", ""),
        )

    @classmethod
    def from_response(cls, body: dict[str, Any], now: datetime) -> Tokens:
        refresh_in = int(body.get("refresh_expires_in") or 0)
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=now + timedelta(seconds=int(body.get("expires_in") or 0)),
            refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
            scope=str(body.get("scope", "")),
        )


def request_tokens(
    config: OAuthConfig, params: dict[str, str], *, policy: RetryPolicy | None = None
) -> Tokens:
    """POST to the token endpoint; ``OAuthGrantRefused`` when the grant is refused."""
    now = utcnow()
    with make_client("", policy=policy, provider="lightspeed") as client:
        try:
            response = client.post(
                config.token_url,
                auth=httpx.BasicAuth(config.client_id, config.client_secret),
                **({"params": params} if config.token_params_in_query else {"data": params}),
            )
        except httpx.TransportError as error:
            raise PosUnavailable(f"{SERVICE} sign-in did not answer ({error})") from None
    if response.status_code in (400, 401, 403):
        if _error_code(response) in CLIENT_ERRORS:
            raise OAuthClientRefused(
                f"{SERVICE} refused Stockpot's API client ({message_of(response)}): the "
                "operator has to set LIGHTSPEED_CLIENT_ID and LIGHTSPEED_CLIENT_SECRET to the "
                "client registered in the Lightspeed developer portal; the connections are "
                "kept and work again then"
            )
        raise OAuthGrantRefused(f"{SERVICE} refused the grant: {message_of(response)}")
    if response.status_code >= 300:
        raise PosUnavailable(
            f"{SERVICE} sign-in is unavailable (HTTP {response.status_code}: "
            f"{message_of(response)})"
        )
    try:
        return Tokens.from_response(response.json(), now)
    except (ValueError, KeyError) as error:
        raise PosUnavailable(f"{SERVICE} sign-in answered without tokens ({error})") from None


def _error_code(response: httpx.Response) -> str | None:
    """The OAuth ``error`` of a token endpoint's refusal, if it names one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None
