"""Services over POS connections: connect, test, sync locations and items, fetch a day.

Connectors are called outside database transactions (a POS may be slow); what they return is
then written in one short transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.business_day import known_zone
from stockpot.core.crypto import secret_box
from stockpot.core.db import insert_ignoring_conflicts, unit_of_work, utcnow
from stockpot.core.errors import (
    ConfigurationError,
    UnauthorizedCompanyAccess,
    ValidationFailed,
)
from stockpot.core.jobs import effects
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import (
    Company,
    Connection,
    ConnectionStatus,
    ExternalLocation,
    OAuthState,
    PosItem,
    Provider,
    RunKind,
)
from stockpot.core.pos.base import (
    ConnectionCheck,
    FetchedDay,
    LocationRef,
    PosConnector,
    RemoteLocation,
)
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosError
from stockpot.core.pos.http import Deadline, RetryPolicy, make_client
from stockpot.core.pos.lightspeed import connector as lightspeed
from stockpot.core.pos.lightspeed.connector import LightspeedConnector
from stockpot.core.pos.lightspeed.oauth import (
    OAuthClientRefused,
    OAuthExchangeFailed,
    OAuthGrantRefused,
    Tokens,
    oauth_config,
    refuse_missing_scopes,
    request_tokens,
)
from stockpot.core.pos.lightspeed.tokens import ConnectionTokens, LightspeedAuth
from stockpot.core.pos.pacing import Pacer, RatePolicy, pacer_for
from stockpot.core.pos.sides import api as sides_api
from stockpot.core.pos.sides.connector import SidesAuth, SidesConnector, SidesCredentials
from stockpot.core.scope import provider_connection, refuse_second_connection
from stockpot.core.settings import Settings
from stockpot.core.transfer.lines import RawInput, item_problem, stored_name
from stockpot.core.transfer.live import rerun_lines
from stockpot.core.transfer.runner import TransferReport, record_failed_run, run_transfer
from stockpot.core.words import grouped, plural

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
"""How long Lightspeed's sign-in and consent may take, from the start link's opening."""
START_TTL = timedelta(minutes=5)
"""How long a start link (the one Slack shows) may wait to be opened."""
SPENT = "spent"
"""``browser_hash`` of an authorization that came back to another browser: no cookie matches."""
START_PURPOSE = "start:"
"""Signed before the nonce for a start link: a start link is not a state, nor the reverse."""


class InvalidOAuthState(ValidationFailed):
    code = "invalid_oauth_state"


class NotThisBrowser(InvalidOAuthState):
    """The state came back to a browser other than the one that opened its start link: a
    forwarded Lightspeed link (login CSRF), or the command line's authorization."""

    def __init__(self, from_cli: bool) -> None:
        super().__init__(
            "this Lightspeed authorization was started with `stockpot pos connect-lightspeed`: "
            "finish it there, with `stockpot pos finish-lightspeed 'ADDRESS'` and this page's "
            "address"
            if from_cli
            else "this Lightspeed authorization was not started in this browser, so nothing "
            "was connected. Stockpot connects Lightspeed only in the browser that opened the "
            "Connect Lightspeed link in Slack: if that was you, open a new one there; if "
            "someone sent you the link, do not use it"
        )


class AuthorizationCompleted(InvalidOAuthState):
    """A state used already, for a company whose Lightspeed is connected now: the page
    Lightspeed sent back to, opened again (a refresh). Refused as a state, and true to say."""

    def __init__(self, info: ConnectionInfo) -> None:
        super().__init__(
            f"this Lightspeed authorization was already used: {info.shown} is connected for "
            f"{info.company}, nothing more to do"
        )
        self.info = info


@dataclass
class ConnectionInfo:
    id: int
    company: str
    label: str
    """The key the CLI takes (``sides:SIDES``)."""
    status: str
    shown: str = ""
    """As users know it (``SIDES``): what Slack and the OAuth page say."""
    account: str = ""
    """What the POS says it is (the Lightspeed business), when a connection was just made."""
    again: bool = False
    """Made by an earlier submission of the same form (``once``): said when it was made."""


def _info(session: Session, connection: Connection) -> ConnectionInfo:
    company = session.get_one(Company, connection.company_id)
    return ConnectionInfo(
        connection.id, company.name, connection.label, connection.status.value, connection.shown
    )


# --- building connectors -------------------------------------------------------------------


RATE_SETTING = "requests_per_second"
"""The connection's own pace (its ``settings``), set by ``stockpot pos pace``."""
DOCUMENTED_POLICIES = {
    Provider.LIGHTSPEED: lightspeed.RATE_POLICY,
    Provider.SIDES: sides_api.RATE_POLICY,
}


def rate_policy(provider: Provider, options: dict[str, object], settings: Settings) -> RatePolicy:
    """How fast one process may send to a connection: the connection's own setting, else
    ``STOCKPOT_POS_REQUESTS_PER_SECOND``, else the POS's documented policy."""
    documented = DOCUMENTED_POLICIES[provider]
    own = options.get(RATE_SETTING)
    if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
        return RatePolicy(float(own), documented.burst)
    if settings.pos_requests_per_second is not None:
        return RatePolicy(settings.pos_requests_per_second, documented.burst)
    return documented


def set_pace(
    factory: sessionmaker[Session], settings: Settings, connection_id: int, per_second: float | None
) -> RatePolicy:
    """Give a connection its own pace (``None``: back to the setting or the documented
    policy); returns the policy now in force. Processes pick it up with their next request."""
    if per_second is not None and not 0 < per_second <= 1000:
        raise ValidationFailed(f"a pace is between 0 and 1000 requests a second, not {per_second}")
    with unit_of_work(factory) as session:
        connection = session.get_one(Connection, connection_id)
        if connection.provider not in DOCUMENTED_POLICIES:
            raise ValidationFailed(f"{connection.label} asks no POS: it has no pace")
        options = {k: v for k, v in (connection.settings or {}).items() if k != RATE_SETTING}
        if per_second is not None:
            options[RATE_SETTING] = per_second
        connection.settings = options
        return rate_policy(connection.provider, options, settings)


def connection_pacer(
    provider: Provider, connection_id: int, options: dict[str, object], settings: Settings
) -> Pacer:
    """The pacer every request to this connection takes its turn from, in this process."""
    return pacer_for(f"connection:{connection_id}", rate_policy(provider, options, settings))


def connector_for(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    *,
    policy: RetryPolicy | None = None,
) -> PosConnector:
    with factory() as session:
        connection = session.get_one(Connection, connection_id)
        provider, credentials = connection.provider, connection.credentials
        options = dict(connection.settings or {})
    box = secret_box(settings)
    policy = policy or _retry_policy(settings)
    if provider is Provider.LIGHTSPEED:
        tokens = ConnectionTokens(factory, connection_id, box, oauth_config(settings), policy)
        client = make_client(
            settings.lightspeed.api_url,
            policy=policy,
            auth=LightspeedAuth(tokens),
            pacer=connection_pacer(provider, connection_id, options, settings),
            provider="lightspeed",
        )
        return LightspeedConnector(client)
    if provider is Provider.SIDES:
        if credentials is None:
            raise PosAuthError("this SIDES connection has no credentials; update them")
        return _sides_connector(
            settings,
            SidesCredentials(**box.decrypt(credentials)),
            policy=policy,
            pacer=connection_pacer(provider, connection_id, options, settings),
            refunds_need_restock=bool(options.get("refunds_need_restock", True)),
        )
    raise ValidationFailed(
        "CSV connections have no POS to ask: their sales come from files (`stockpot csv import`)"
    )


def _retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_delay=settings.pos_retry_seconds, max_delay=max(settings.pos_retry_seconds, 30.0)
    )


def _sides_connector(
    settings: Settings,
    credentials: SidesCredentials,
    *,
    policy: RetryPolicy | None = None,
    refunds_need_restock: bool = True,
    pacer: Pacer | None = None,
) -> SidesConnector:
    if not settings.sides.api_url:
        raise ConfigurationError(
            "SIDES is not configured: set SIDES_API_URL to the SIDES API address (see the README)"
        )
    auth = SidesAuth(settings.sides.api_url, credentials)
    client = make_client(
        settings.sides.api_url, policy=policy, auth=auth, pacer=pacer, provider="sides"
    )
    return SidesConnector(client, refunds_need_restock=refunds_need_restock)


# --- SIDES ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sameness:
    """How new credentials of a POS must read what the connection's read: its account
    (``ConnectionCheck.tenant``) kept in the connection's ``settings`` under ``key``, and the
    refusals' words (``other``: ``{name}``; ``unseen``: ``{names}``, ``{it}``)."""

    key: str
    refusal: type[ValidationFailed]
    other: str
    unseen: str


class OtherSidesStores(ValidationFailed):
    """New SIDES credentials whose user would change what the connection reads."""

    code = "sides_user_sees_other_stores"


class OtherLightspeedBusiness(ValidationFailed):
    """A new Lightspeed authorization for another business than the connection's."""

    code = "lightspeed_other_business"


SIDES_TENANT = "sides_tenant"
"""The key of the SIDES account (tenant) a connection reads, in its ``settings``."""
SIDES_SAME = _Sameness(
    SIDES_TENANT,
    OtherSidesStores,
    "this user belongs to {name}, another SIDES account than this connection's: sign in as a "
    "user of the account set up here",
    "this SIDES user does not see {names}, active here: sign in as one who sees {it}, or "
    "deactivate {it} in `/pos locations` first",
)
LIGHTSPEED_BUSINESSES = "lightspeed_businesses"
"""The key of the Lightspeed businesses (their ids, comma-separated) a connection reads."""
LIGHTSPEED_SAME = _Sameness(
    LIGHTSPEED_BUSINESSES,
    OtherLightspeedBusiness,
    "this authorization is for {name}, not the Lightspeed business of this connection: "
    "authorize again as a user of the business set up here; the connection keeps its tokens",
    "this Lightspeed authorization does not reach {names}, active here: authorize again as "
    "a user who sees {it}, or deactivate {it} in `/pos locations` first",
)


def _refuse_another_account(
    connection: Connection, check: ConnectionCheck, same: _Sameness
) -> None:
    """New credentials read what the old ones read: an account of the connection's (the same
    SIDES account; a Lightspeed business of those it read), and every location transferred
    here. Refused, not asked about: new credentials keep locations, links and mappings, so
    credentials of another account are a mistake (its sales would be posted as this one's),
    or a move the admin makes by deactivating those locations first. Locations only the new
    credentials reach arrive inactive at the next sync, as a store the POS opens does."""
    known = str((connection.settings or {}).get(same.key) or "")
    if (
        check.tenant is not None
        and known
        and not set(known.split(",")) & set(check.tenant[0].split(","))
    ):
        raise same.refusal(same.other.format(name=check.tenant[1]))
    unseen = [
        location.name
        for location in connection.locations
        if location.active and location.external_id not in check.location_ids
    ]
    if unseen:
        names = unseen[0] if len(unseen) == 1 else f"{len(unseen)} stores ({', '.join(unseen)})"
        it = "it" if len(unseen) == 1 else "them"
        raise same.refusal(same.unseen.format(names=names, it=it))


def _account_setting(check: ConnectionCheck | None, key: str) -> dict[str, str]:
    return {} if check is None or check.tenant is None else {key: check.tenant[0]}


def _tested_sides(
    settings: Settings,
    credentials: SidesCredentials,
    policy: RetryPolicy | None,
    within: float | None,
) -> ConnectionCheck:
    """The sign-in tested; with ``within``, in that many seconds at most (``PosTooSlow``)."""
    policy = policy or _retry_policy(settings)
    if within is not None:
        policy = replace(policy, deadline=Deadline.starting_now(within))
    return _sides_connector(settings, credentials, policy=policy).test()


def _made(earlier: dict[str, object] | None) -> ConnectionInfo | None:
    made = (earlier or {}).get("made")
    return replace(ConnectionInfo(**made), again=True) if isinstance(made, dict) else None


def _made_by(session: Session, once: str | None, company_id: int) -> ConnectionInfo | None:
    """What the submission keyed ``once`` made (said again, ``again``), if one was made."""
    return _made(None if once is None else effects.done(session, once, company_id))


def _claimed(session: Session, once: str | None, company_id: int) -> ConnectionInfo | None:
    """Claim ``once`` for the change this transaction makes; what the submission made if it
    was made meanwhile (the same form sent twice at once: the other one made it)."""
    return _made(None if once is None else effects.take(session, once, company_id))


def _keep_made(session: Session, once: str | None, info: ConnectionInfo) -> ConnectionInfo:
    if once is not None:
        effects.record(session, once, {"made": asdict(info)})
    return info


def connect_sides(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    company_id: int,
    username: str,
    password: str,
    name: str = "SIDES",
    policy: RetryPolicy | None = None,
    within: float | None = None,
    once: str | None = None,
) -> ConnectionInfo:
    """Test the credentials, then save the connection; bad credentials save nothing.
    ``once``: the key of this submission (a form's view): submitted again after it connected,
    it answers what it made, not that the company has a SIDES connection (its own)."""
    with factory() as session:
        if made := _made_by(session, once, company_id):
            return made
        refuse_second_connection(session, company_id, Provider.SIDES)
    credentials = SidesCredentials(username, password)
    check = _tested_sides(settings, credentials, policy, within)
    encrypted = secret_box(settings).encrypt({"username": username, "password": password})
    with unit_of_work(factory) as session:
        if made := _claimed(session, once, company_id):
            return made
        refuse_second_connection(session, company_id, Provider.SIDES)
        connection = Connection(
            company_id=company_id,
            provider=Provider.SIDES,
            name=name,
            credentials=encrypted,
            settings={"refunds_need_restock": True, **_account_setting(check, SIDES_TENANT)},
        )
        session.add(connection)
        session.flush()
        return _keep_made(session, once, _info(session, connection))


def update_sides_credentials(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    *,
    username: str,
    password: str,
    policy: RetryPolicy | None = None,
    within: float | None = None,
    once: str | None = None,
) -> ConnectionInfo:
    """New credentials, tested first, of a user who reads what the old one read
    (``_refuse_another_account``); stores, links and mappings stay as they are. ``once`` as for
    ``connect_sides``: an update submitted again is not tested and said again."""
    with factory() as session:
        company_id = session.get_one(Connection, connection_id).company_id
        if made := _made_by(session, once, company_id):
            return made
    credentials = SidesCredentials(username, password)
    check = _tested_sides(settings, credentials, policy, within)
    encrypted = secret_box(settings).encrypt({"username": username, "password": password})
    with unit_of_work(factory) as session:
        if made := _claimed(session, once, company_id):
            return made
        connection = session.get_one(Connection, connection_id)
        if connection.provider is not Provider.SIDES:
            raise ValidationFailed(f"{connection.shown} is not a SIDES connection")
        _refuse_another_account(connection, check, SIDES_SAME)
        known = _account_setting(check, SIDES_TENANT)
        connection.settings = {**(connection.settings or {}), **known}
        connection.credentials = encrypted
        connection.status = ConnectionStatus.CONNECTED
        return _keep_made(session, once, _info(session, connection))


# --- Lightspeed OAuth ----------------------------------------------------------------------


def start_lightspeed(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    company_id: int,
    started_by: str,
    name: str = "Lightspeed",
    reauthorize: bool = False,
    notify: Notify | None = None,
    in_browser: bool = False,
) -> str:
    """The URL to send the user to. ``reauthorize`` renews the tokens of the company's existing
    connection (keeping its locations, links and mappings); without it a second connection is
    refused.

    ``in_browser`` (Slack): Stockpot's own start link, which binds the authorization to the
    browser that opens it (``open_lightspeed_start``) and works once; only that browser can
    finish it at the callback. Otherwise (the command line) Lightspeed's page, whose address
    back only ``finish-lightspeed`` finishes."""
    config = oauth_config(settings)
    nonce = secrets.token_urlsafe(24)
    box = secret_box(settings)
    with unit_of_work(factory) as session:
        if not reauthorize:
            refuse_second_connection(session, company_id, Provider.LIGHTSPEED)
        session.add(
            OAuthState(
                nonce=nonce,
                provider=Provider.LIGHTSPEED,
                company_id=company_id,
                started_by=started_by,
                connection_name=name,
                reauthorize=reauthorize,
                notify_channel=notify.channel_id if notify else None,
                notify_user=notify.user_id if notify else None,
                notify_team=notify.team_id if notify else None,
                expires_at=utcnow() + (START_TTL if in_browser else STATE_TTL),
            )
        )
    if in_browser:
        link = f"{nonce}.{box.sign(START_PURPOSE + nonce)}"
        return f"{config.start_url}?{urlencode({'s': link})}"
    return config.authorize(f"{nonce}.{box.sign(nonce)}")


@dataclass(frozen=True)
class BrowserStart:
    """Where the start link sends its browser, and the cookie that browser keeps meanwhile."""

    authorize_url: str
    cookie: str


def _browser_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def open_lightspeed_start(
    factory: sessionmaker[Session], settings: Settings, link: str
) -> BrowserStart:
    """A start link opened: once, within ``START_TTL``. The authorization is bound to this
    browser's new cookie, and has ``STATE_TTL`` from now to come back."""
    config = oauth_config(settings)
    box = secret_box(settings)
    nonce, _, signature = (link or "").partition(".")
    if not nonce or not box.verify(START_PURPOSE + nonce, signature):
        raise InvalidOAuthState(
            "this Connect Lightspeed link is not one Stockpot made (cut short or changed); "
            "open the link from Slack again, or ask for a new one"
        )
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    with unit_of_work(factory) as session:
        pending = session.scalar(select(OAuthState).where(OAuthState.nonce == nonce))
        if pending is None:
            raise InvalidOAuthState("unknown Connect Lightspeed link; ask for a new one")
        if pending.opened_at is None and pending.expires_at < now:
            raise InvalidOAuthState(
                f"this Connect Lightspeed link expired (a link works for "
                f"{START_TTL.seconds // 60} minutes); ask for a new one"
            )
        opened = session.execute(
            update(OAuthState)
            .where(
                OAuthState.id == pending.id,
                OAuthState.opened_at.is_(None),
                OAuthState.used_at.is_(None),
            )
            .values(opened_at=now, browser_hash=_browser_hash(cookie), expires_at=now + STATE_TTL)
        )
        if opened.rowcount != 1:
            raise InvalidOAuthState(
                "this Connect Lightspeed link was opened already: a link works once, in the "
                "browser that opens it first. Ask for a new one"
            )
    return BrowserStart(config.authorize(f"{nonce}.{box.sign(nonce)}"), cookie)


def complete_lightspeed(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    state: str,
    code: str,
    cookie: str | None,
    company_id: int | None = None,
    policy: RetryPolicy | None = None,
) -> ConnectionInfo:
    """Handle the redirect back from Lightspeed: check the state, exchange the code, store the
    tokens encrypted, and ask Lightspeed which business they are for (``account``).

    ``cookie`` is what the browser at the callback holds (``""`` for none): it must be the
    one its start link gave (``open_lightspeed_start``). ``None`` only from the operator's
    command line, where no browser came back. ``company_id``, when the caller knows whose
    callback this is, must match.
    """
    config = oauth_config(settings)
    pending = _consume_state(factory, settings, state, company_id, cookie)
    try:
        tokens = request_tokens(
            config,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri},
            policy=policy,
        )
    except OAuthClientRefused:
        raise  # the operator's to fix: starting again would not help
    except (OAuthGrantRefused, PosError) as error:
        raise OAuthExchangeFailed(
            f"Lightspeed did not accept the authorization ({error}); start the connection again"
        ) from error
    refuse_missing_scopes(config, tokens.scope)
    check = _granted(settings, tokens, policy, checked=pending.reauthorize)
    encrypted = secret_box(settings).encrypt(tokens.to_json())
    with unit_of_work(factory) as session:
        if not pending.reauthorize:
            refuse_second_connection(session, pending.company_id, Provider.LIGHTSPEED)
        connection = provider_connection(session, pending.company_id, Provider.LIGHTSPEED)
        if connection is None:
            connection = Connection(
                company_id=pending.company_id,
                provider=Provider.LIGHTSPEED,
                name=pending.connection_name,
            )
            session.add(connection)
        elif check is not None:  # a reauthorization: the same business, or nothing changes
            _refuse_another_account(connection, check, LIGHTSPEED_SAME)
        connection.credentials = encrypted
        known = _account_setting(check, LIGHTSPEED_BUSINESSES)
        connection.settings = {**(connection.settings or {}), **known}
        connection.status = ConnectionStatus.CONNECTED
        session.flush()
        info = _info(session, connection)
    return replace(info, account=check.account if check else "")


def _granted(
    settings: Settings, tokens: Tokens, policy: RetryPolicy | None, *, checked: bool
) -> ConnectionCheck | None:
    """What Lightspeed says new tokens read, asked with them before they are stored. ``None``
    when it does not answer now: a first connection's tokens are stored all the same (``/pos
    test`` asks again); a reauthorization's are refused, since tokens that may read another
    business never replace the connection's unchecked (``checked``)."""
    client = make_client(
        settings.lightspeed.api_url,
        policy=policy or _retry_policy(settings),
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        provider="lightspeed",
    )
    connector = LightspeedConnector(client)
    try:
        return connector.test()
    except PosError as error:
        if checked:
            raise OAuthExchangeFailed(
                f"Lightspeed did not say which business this authorization is for ({error}); "
                "nothing changed: authorize again in a moment"
            ) from error
        log.warning("Lightspeed did not say which business was connected: %s", error)
        return None
    finally:
        connector.close()


def who_to_tell(factory: sessionmaker[Session], state: str) -> Notify | None:
    """The Slack channel and user the authorization behind ``state`` was started from."""
    nonce = (state or "").partition(".")[0]
    with factory() as session:
        row = session.execute(
            select(OAuthState.notify_team, OAuthState.notify_channel, OAuthState.notify_user).where(
                OAuthState.nonce == nonce
            )
        ).first()
    if row is None or row[1] is None:
        return None
    return Notify(team_id=row[0] or "", channel_id=row[1], user_id=row[2])


@dataclass(frozen=True)
class _PendingAuthorization:
    company_id: int
    connection_name: str
    reauthorize: bool


def _consume_state(
    factory: sessionmaker[Session],
    settings: Settings,
    state: str,
    company_id: int | None,
    cookie: str | None,
) -> _PendingAuthorization:
    nonce, _, signature = (state or "").partition(".")
    if not nonce or not secret_box(settings).verify(nonce, signature):
        raise InvalidOAuthState(
            "this Lightspeed authorization is not one Stockpot started (missing or forged "
            "state); start the connection again"
        )
    with unit_of_work(factory) as session:
        claim = _claim_state(session, nonce, company_id, cookie)
    if isinstance(claim, NotThisBrowser):
        raise claim  # after the commit that spent it
    return claim


def _claim_state(
    session: Session, nonce: str, company_id: int | None, cookie: str | None
) -> _PendingAuthorization | NotThisBrowser:
    pending = session.scalar(select(OAuthState).where(OAuthState.nonce == nonce))
    if pending is None:
        raise InvalidOAuthState("unknown Lightspeed authorization; start the connection again")
    if company_id is not None and pending.company_id != company_id:
        raise UnauthorizedCompanyAccess(
            "this Lightspeed authorization was started for another company"
        )
    if pending.used_at is None and cookie is not None:
        bound = pending.browser_hash
        if bound is None or not hmac.compare_digest(bound, _browser_hash(cookie)):
            refused = NotThisBrowser(from_cli=bound is None)
            if bound is not None:
                # Spent: the code Lightspeed gave along with it is of no use in the right
                # browser either (handed back by the person it was forwarded to).
                pending.browser_hash = SPENT
            return refused
    if pending.used_at is None and pending.expires_at < utcnow():
        raise InvalidOAuthState(
            "this Lightspeed authorization expired (it is valid for 10 minutes); start the "
            "connection again"
        )
    claimed = session.execute(
        update(OAuthState)
        .where(OAuthState.id == pending.id, OAuthState.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        # Used already (a page opened again, however long after): say what is true now.
        connection = provider_connection(session, pending.company_id, Provider.LIGHTSPEED)
        if connection is not None and connection.status is ConnectionStatus.CONNECTED:
            raise AuthorizationCompleted(_info(session, connection))
        raise InvalidOAuthState(
            "this Lightspeed authorization was already used; start the connection again"
        )
    return _PendingAuthorization(pending.company_id, pending.connection_name, pending.reauthorize)


# --- operations on a connection ------------------------------------------------------------


@dataclass
class SyncSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Known here but no longer listed by the POS (kept, with their history)."""

    def __str__(self) -> str:
        text = f"{len(self.created)} new, {len(self.updated)} updated"
        return text + (f", {len(self.missing)} no longer listed" if self.missing else "")


def _set_status(
    factory: sessionmaker[Session], connection_id: int, status: ConnectionStatus
) -> None:
    with unit_of_work(factory) as session:
        session.get_one(Connection, connection_id).status = status


@contextmanager
def refusals_marked(factory: sessionmaker[Session], connection_id: int) -> Iterator[None]:
    """SIDES refusing the sign-in (a password changed at SIDES) marks the connection
    ``error``: the scheduler asks nothing more of it, where every day's automatic transfer
    would fail and be told again, until its credentials are updated (or ``/pos test``
    passes). Lightspeed marks its own connection when its refresh is refused
    (``ConnectionTokens``)."""
    try:
        yield
    except PosAuthError:
        with unit_of_work(factory) as session:
            connection = session.get_one(Connection, connection_id)
            if connection.provider is Provider.SIDES:
                connection.status = ConnectionStatus.ERROR
        raise


def pos_connections(factory: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    """Every connection to a POS that can be asked (not CSV): id, company, label."""
    with factory() as session:
        rows = session.execute(
            select(Connection, Company.name)
            .join(Company, Company.id == Connection.company_id)
            .where(Connection.provider.in_(Provider.askable()))
            .order_by(Company.name, Connection.id)
        ).all()
        return [(connection.id, company, connection.label) for connection, company in rows]


def test_connection(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    *,
    policy: RetryPolicy | None = None,
) -> str:
    connector = connector_for(factory, settings, connection_id, policy=policy)
    with refusals_marked(factory, connection_id):
        check = connector.test()
    _set_status(factory, connection_id, ConnectionStatus.CONNECTED)
    return f"connected as {check.account}; {plural(check.locations, 'location')} reachable"


def sync_locations(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    *,
    policy: RetryPolicy | None = None,
) -> SyncSummary:
    """Store the POS's locations. New ones start inactive and unlinked; links, activation and
    automatic-transfer state of known ones are kept."""
    with refusals_marked(factory, connection_id):
        remote = connector_for(factory, settings, connection_id, policy=policy).locations()
    summary = SyncSummary()
    with unit_of_work(factory) as session:
        connection = session.get_one(Connection, connection_id)
        problems = [p for p in (_location_problem(found) for found in remote) if p]
        if problems:
            raise ValidationFailed(
                f"{connection.shown} {problems[0]}; correct it there and sync again. Nothing "
                "was synced"
            )
        known = {
            location.external_id: location
            for location in session.scalars(
                select(ExternalLocation).where(ExternalLocation.connection_id == connection_id)
            )
        }
        for found in remote:
            location = known.pop(found.external_id, None)
            if location is None:
                location = ExternalLocation(
                    company_id=connection.company_id,
                    connection_id=connection_id,
                    external_id=found.external_id,
                    active=False,
                )
                session.add(location)
                summary.created.append(found.name)
            else:
                summary.updated.append(found.name)
            location.name = stored_name(found.name, LOCATION_NAME_MAX)
            location.timezone = found.timezone
            if found.business_day_start is not None:
                location.business_day_start = found.business_day_start
        summary.missing = sorted(location.name for location in known.values())
    return summary


LOCATION_ID_MAX, LOCATION_NAME_MAX = 200, 200
"""The longest external id and name ``external_location`` holds."""


def _location_problem(found: RemoteLocation) -> str | None:
    """Why a POS's location cannot be kept, or ``None``. Its id is its identity (never
    clipped); its timezone is read by every clock of the schedule, so an unknown one is
    refused where it comes in."""
    shown = stored_name(found.name, 60)
    if "\0" in found.external_id or len(found.external_id) > LOCATION_ID_MAX:
        written = found.external_id.replace("\0", "\ufffd")[:40]
        return (
            f"sent the location id '{written}…' ({grouped(len(found.external_id))} "
            f"characters) for '{shown}', which cannot be kept: ids have at most "
            f"{LOCATION_ID_MAX} characters and no NUL"
        )
    if not known_zone(found.timezone):
        return (
            f"says '{shown}' is in the timezone '{stored_name(found.timezone, 60)}', which is "
            "no timezone Stockpot knows (an IANA name such as Europe/Berlin)"
        )
    return None


def location_refs(session: Session, connection_id: int) -> list[LocationRef]:
    return [
        LocationRef.of(loc)
        for loc in session.scalars(
            select(ExternalLocation).where(ExternalLocation.connection_id == connection_id)
        )
    ]


ITEMS_SYNCED = "items_synced_at"
"""The connection setting that says when its items were last synced (when that sync began
asking): written with the items, in their transaction."""


def items_synced_at(connection: Connection) -> datetime | None:
    """When ``connection``'s items were last synced, or ``None``: committed with the items,
    so it is there as soon as a sync's items are, before anyone is told the sync is done."""
    last = (connection.settings or {}).get(ITEMS_SYNCED)
    return datetime.fromisoformat(last) if isinstance(last, str) else None


def sync_items(
    factory: sessionmaker[Session],
    settings: Settings,
    connection_id: int,
    *,
    incremental: bool = False,
    policy: RetryPolicy | None = None,
) -> SyncSummary:
    """Refresh the cached catalog of POS items (names and kinds); mappings are untouched.
    ``incremental`` asks only for what changed since the last sync, where the POS can tell."""
    with factory() as session:
        refs = location_refs(session, connection_id)
        connection = session.get_one(Connection, connection_id)
        company_id = connection.company_id
        last = items_synced_at(connection)
    if not refs:
        raise ValidationFailed("sync the locations first: items are listed per location")
    started = utcnow()
    since = last if incremental else None
    connector = connector_for(factory, settings, connection_id, policy=policy)
    with refusals_marked(factory, connection_id):
        # By key, the last word kept: a product renamed while the sync paged comes on two
        # pages.
        remote = list({item.key: item for item in connector.items(refs, since)}.values())
    summary = SyncSummary()
    with unit_of_work(factory) as session:
        known = {
            item.key: item
            for item in session.scalars(
                select(PosItem).where(PosItem.connection_id == connection_id)
            )
        }
        new = []
        for item in remote:
            problem = item_problem(item.key, item.external_id, item.name)
            if problem is not None:  # a day that sells it says so, naming its line
                log.warning("connection %s: skipped an item of the POS: %s", connection_id, problem)
                continue
            name = stored_name(item.name)
            existing = known.get(item.key)
            if existing is None:
                new.append(
                    {
                        "company_id": company_id,
                        "connection_id": connection_id,
                        "key": item.key,
                        "external_id": item.external_id,
                        "name": name,
                        "kind": item.kind,
                        "created_at": started,
                    }
                )
                summary.created.append(name)
            elif (existing.name, existing.kind, existing.external_id) != (
                name,
                item.kind,
                item.external_id,
            ):
                existing.name, existing.kind = name, item.kind
                existing.external_id = item.external_id
                summary.updated.append(name)
        insert_ignoring_conflicts(
            session, PosItem.__table__, new, index_elements=["connection_id", "key"]
        )
        connection = session.get_one(Connection, connection_id)
        connection.settings = {
            **(connection.settings or {}),
            ITEMS_SYNCED: started.isoformat(),
        }
    return summary


class DayFetcher:
    """Fetches business days of one location through one connector, however many days and
    threads ask: one HTTP client with its kept-alive connections, one sign-in, one token
    read. A fetch that fails is logged as a failed run (a day the POS has not closed is not:
    it is asked for again later). Close it (or use it as a context manager) when done."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        location_id: int,
        *,
        run_kind: RunKind = RunKind.MANUAL,
        triggered_by: str = "",
        policy: RetryPolicy | None = None,
    ) -> None:
        self._factory, self._settings, self._location_id = factory, settings, location_id
        self._run_kind, self._triggered_by, self._policy = run_kind, triggered_by, policy
        with factory() as session:
            location = session.get_one(ExternalLocation, location_id)
            self._ref = LocationRef.of(location)
            self._connection_id = location.connection_id
        self._connector: PosConnector | None = None
        self._lock = threading.Lock()

    def __call__(self, business_date: date) -> FetchedDay:
        try:
            with refusals_marked(self._factory, self._connection_id):
                fetched = self._connect().fetch_day(self._ref, business_date)
        except DayNotComplete:
            raise
        except PosError as error:
            record_failed_run(
                self._factory,
                self._location_id,
                business_date,
                self._run_kind,
                self._triggered_by,
                str(error),
            )
            raise
        start = fetched.business_day_start
        if start is not None and start != self._ref.business_day_start:
            with unit_of_work(self._factory) as session:
                session.get_one(ExternalLocation, self._location_id).business_day_start = start
            self._ref = replace(self._ref, business_day_start=start)
        return fetched

    def _connect(self) -> PosConnector:
        with self._lock:
            if self._connector is None:
                self._connector = connector_for(
                    self._factory, self._settings, self._connection_id, policy=self._policy
                )
            return self._connector

    def close(self) -> None:
        with self._lock:
            if self._connector is not None:
                self._connector.close()
                self._connector = None

    def __enter__(self) -> DayFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_day(
    factory: sessionmaker[Session],
    settings: Settings,
    location_id: int,
    business_date: date,
    *,
    run_kind: RunKind = RunKind.MANUAL,
    triggered_by: str = "",
    policy: RetryPolicy | None = None,
) -> FetchedDay:
    """Fetch one business day from the location's POS (see ``DayFetcher``)."""
    with DayFetcher(
        factory,
        settings,
        location_id,
        run_kind=run_kind,
        triggered_by=triggered_by,
        policy=policy,
    ) as fetch:
        return fetch(business_date)


def transfer_fetched(
    factory: sessionmaker[Session],
    location_id: int,
    business_date: date,
    day: FetchedDay,
    *,
    kind: RunKind = RunKind.MANUAL,
    triggered_by: str = "",
    dry_run: bool = False,
    effect_key: str | None = None,
    keep_movements: bool = True,
) -> TransferReport:
    return run_transfer(
        factory,
        location_id,
        business_date,
        day.lines,
        day.raw,
        kind=kind,
        triggered_by=triggered_by,
        dry_run=dry_run,
        effect_key=effect_key,
        keep_movements=keep_movements,
    )


def transfer_day(
    factory: sessionmaker[Session],
    settings: Settings,
    location_id: int,
    business_date: date,
    *,
    kind: RunKind = RunKind.MANUAL,
    triggered_by: str = "",
    dry_run: bool = False,
    policy: RetryPolicy | None = None,
    effect_key: str | None = None,
    keep_movements: bool = True,
) -> TransferReport:
    """Fetch a business day from the location's POS and transfer it. A fetch that fails is
    logged as a failed run and posts nothing. A CSV location has no POS to ask: its day runs
    again from the lines its live run stored (the imports of that day), e.g. after a mapping
    changed."""
    with factory() as session:
        location = session.get_one(ExternalLocation, location_id)
        stored = location.connection.provider.from_files
    if stored:
        return run_transfer(
            factory,
            location_id,
            business_date,
            rerun_lines(location_id, business_date),
            RawInput("csv", '{"rerun": "lines of the live run"}'),
            kind=kind,
            triggered_by=triggered_by,
            dry_run=dry_run,
            effect_key=effect_key,
            keep_movements=keep_movements,
        )
    fetched = fetch_day(
        factory,
        settings,
        location_id,
        business_date,
        run_kind=RunKind.DRY_RUN if dry_run else kind,
        triggered_by=triggered_by,
        policy=policy,
    )
    return transfer_fetched(
        factory,
        location_id,
        business_date,
        fetched,
        kind=kind,
        triggered_by=triggered_by,
        dry_run=dry_run,
        effect_key=effect_key,
        keep_movements=keep_movements,
    )
