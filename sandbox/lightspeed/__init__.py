"""A fake Lightspeed Restaurant K-Series (OAuth V1/V2, Financial and Items APIs) on loopback."""

from stockpot.sandbox.lightspeed.data import (
    GOLDEN_DATE,
    GOLDEN_LOCATION_ID,
    Business,
    LightspeedData,
    Location,
)
from stockpot.sandbox.lightspeed.server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SCOPES,
    DEFAULT_USER,
    LightspeedSandbox,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SCOPES",
    "DEFAULT_USER",
    "GOLDEN_DATE",
    "GOLDEN_LOCATION_ID",
    "Business",
    "LightspeedData",
    "LightspeedSandbox",
    "Location",
]
