"""A fake SIDES POS API (the assumed API of the SIDES reference, §6) for tests, benchmarks
and the demo."""

from stockpot.sandbox.sides.server import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    ApiError,
    SidesSandbox,
    User,
)

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USERNAME", "ApiError", "SidesSandbox", "User"]
