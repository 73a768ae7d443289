"""What the bot hands Slack and gets back (button values, modal metadata), as typed models.

Values come back from Slack as user-controlled input: they are parsed strictly, and whatever
they name is checked against the requester's company before use.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from stockpot.core.errors import ValidationFailed
from stockpot.core.ids import MAX_ID
from stockpot.core.models.stock import StockKind
from stockpot.core.periods import sane_date

RowId = Annotated[int, Field(gt=0, le=MAX_ID)]
"""An id a table's key can hold: a larger one (a 30-digit ``location_id``) reached the
database, which raised (SQLite's ``OverflowError``, PostgreSQL's integer out of range)."""


def _sane(day: date) -> date:
    try:
        return sane_date(day, date.today())  # noqa: DTZ011 - the range is a year wide
    except ValidationFailed as error:
        raise ValueError(str(error)) from None


SaneDate = Annotated[date, AfterValidator(_sane)]
"""A day Stockpot works with (``core.periods.sane_date``), as every typed date is: a forged
Post to ledger of 9999-12-31 or a Catch up of year 1 queued transfers that failed at the POS
and then showed in ``/pos doctor`` as the location's latest day."""


WhyValue = tuple[str, str, SaneDate, SaneDate]
"""A Why? option of ``/ledger`` (``bot.blocks.explain.why_value``): the ingredient, the
storage unit, and the period's first and last day."""


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def made(cls, **fields: Any) -> Self:
        """A value the app makes from what its database holds: not checked, so a row from
        before a rule (a count dated 2999, posted before dates were checked) still renders
        its message; the check is on what comes back (``model_validate_json``), which
        refuses it as a button Stockpot did not make."""
        return cls.model_construct(**fields)


class VarianceValue(Payload):
    """A variance's **Show all**: the storage unit and the period between its two counts."""

    storage_unit: str
    opening: SaneDate
    closing: SaneDate

    @model_validator(mode="after")
    def _in_order(self) -> VarianceValue:
        if self.closing < self.opening:  # a forged value opened a period running backwards
            raise ValueError("a period closes after it opens")
        return self


class TransferValue(Payload):
    location_id: RowId
    business_date: SaneDate


class ConnectSidesMetadata(Payload):
    channel_id: str
    company_id: RowId
    connection_id: RowId | None = None
    """Set when the company has a SIDES connection: the form then updates its credentials."""


class MappingsPageValue(Payload):
    """A page button of ``/pos mappings``: the search it pages through, and the page."""

    text: str = ""
    page: int


MappingState = Annotated[str, Field(max_length=200)]
"""An item's mapping as ``core.mapping.mapping_state`` gives it (``ingredient:7@0.1``)."""


class MappingRowValue(MappingsPageValue):
    """Edit, Remove and Un-ignore of a ``/pos mappings`` row (after ``<item>:``): the page
    they are shown on, and the item's mapping when it was drawn."""

    seen: MappingState = ""
    """Remove and Un-ignore pressed on a copy from before the mapping changed keep the change.
    Empty on rows drawn before it was kept: they act as before."""

    def shown(self) -> MappingsPageValue:
        """The page alone, as a map modal keeps it to redraw the list."""
        return MappingsPageValue(text=self.text, page=self.page)


class MapItemMetadata(Payload):
    pos_item_id: RowId
    channel_id: str
    company_id: RowId
    list_url: str | None = None
    """The ``response_url`` of the list whose Map or Edit opened the modal: a save redraws
    that list (the item leaves the unmapped list; its mappings row shows the new target)."""
    list_page: MappingsPageValue | None = None
    """The ``/pos mappings`` search and page that list shows; ``None``: ``/pos unmapped``."""
    seen: MappingState = ""
    """The item's mapping when the modal opened (``core.mapping.mapping_state``): a save
    over a change made since is refused. Empty in a modal opened before it was kept."""


class CatchUpValue(Payload):
    """Days a location missed while paused (the range; days transferred since are skipped)."""

    company_id: RowId | None = None
    """The company it was offered for: pressed in a direct message, no channel says which of
    the workspace's companies it is (``None``: a button from before, the channel's)."""
    location_id: RowId
    first: SaneDate
    last: SaneDate


class CsvFileValue(Payload):
    """A previewed CSV file's Import button: the Slack file, read again on import."""

    file_id: str
    connection_id: RowId
    thread_ts: str | None = None
    default_date: SaneDate | None = None
    """The date offered for rows without one (the file has no date column)."""
    valid_only: bool = False
    force: bool = False


class CsvUploadMetadata(Payload):
    channel_id: str
    company_id: RowId


class CsvProfileMetadata(Payload):
    channel_id: str
    company_id: RowId
    connection_id: RowId | None = None
    """Set when the form edits an existing profile."""


class StockCountMetadata(Payload):
    """A count sheet's page: where it counts, for which day, and which page it is."""

    channel_id: str
    company_id: RowId
    storage_unit_id: RowId
    business_date: SaneDate
    page: int = 0


FormKind = Literal[StockKind.RECEIPT, StockKind.WASTE, StockKind.MOVE]
"""The stock kinds the receive / waste / move form posts (never a count or a correction)."""


class StockFormMetadata(Payload):
    """The receive / waste / move modal."""

    channel_id: str
    company_id: RowId
    kind: FormKind
    storage_unit: str
    to_storage_unit: str | None = None


class StockFileValue(Payload):
    """The Post count button of a count file's preview: which file, for which unit and day."""

    file_id: str
    storage_unit: str
    business_date: SaneDate
