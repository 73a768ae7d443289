"""Every action, block and callback id the bot uses, so handlers and builders cannot drift."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    TRANSFER_POST = "transfer_post"
    LIGHTSPEED_AUTHORIZE = "lightspeed_authorize"
    LOCATION_ACTIVATE = "location_activate"
    LOCATION_DEACTIVATE = "location_deactivate"
    SIDES_USERNAME = "sides_username"
    SIDES_PASSWORD = "sides_password"


class BlockId(StrEnum):
    SIDES_USERNAME = "sides_username_block"
    SIDES_PASSWORD = "sides_password_block"


class CallbackId(StrEnum):
    CONNECT_SIDES = "connect_sides"
