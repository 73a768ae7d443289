"""The tables, as typed SQLAlchemy models. The schema itself is created by Alembic."""

from stockpot.core.models import slack_install  # noqa: F401 - registers the Slack store tables
from stockpot.core.models.base import Base
from stockpot.core.models.catalog import (
    Company,
    Ingredient,
    IngredientMeasure,
    Recipe,
    RecipeLine,
    StorageUnit,
)
from stockpot.core.models.csv_import import CsvImport, ImportStatus
from stockpot.core.models.job import Job, JobEffect, JobKind, JobState
from stockpot.core.models.ledger import LedgerMovement, MovementType
from stockpot.core.models.pos import (
    AutomaticTransfer,
    Connection,
    ConnectionStatus,
    ExternalLocation,
    OAuthState,
    PosItem,
    PosItemKind,
    PosMapping,
    Provider,
)
from stockpot.core.models.slack import (
    ChannelBinding,
    Member,
    Role,
    SlackDelivery,
    SlackFileEvent,
    WorkspaceCompany,
    WorkspaceLinkCode,
)
from stockpot.core.models.stock import StockCountLine, StockKind, StockPosting
from stockpot.core.models.transfer import (
    RawPayload,
    RunKind,
    RunOutcome,
    RunStatus,
    TransferDay,
    TransferRun,
    TransferRunLines,
    TransferSnapshot,
)
from stockpot.core.models.worker import WorkerHeartbeat

__all__ = [
    "AutomaticTransfer",
    "Base",
    "ChannelBinding",
    "Company",
    "Connection",
    "ConnectionStatus",
    "CsvImport",
    "ExternalLocation",
    "ImportStatus",
    "Ingredient",
    "IngredientMeasure",
    "Job",
    "JobEffect",
    "JobKind",
    "JobState",
    "LedgerMovement",
    "Member",
    "MovementType",
    "OAuthState",
    "PosItem",
    "PosItemKind",
    "PosMapping",
    "Provider",
    "RawPayload",
    "Recipe",
    "RecipeLine",
    "Role",
    "RunKind",
    "RunOutcome",
    "RunStatus",
    "SlackDelivery",
    "SlackFileEvent",
    "StockCountLine",
    "StockKind",
    "StockPosting",
    "StorageUnit",
    "TransferDay",
    "TransferRun",
    "TransferRunLines",
    "TransferSnapshot",
    "WorkerHeartbeat",
    "WorkspaceCompany",
    "WorkspaceLinkCode",
]
