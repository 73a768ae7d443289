"""Every action, block and callback id the bot uses, so handlers and builders cannot drift."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    TRANSFER_POST = "transfer_post"
    TRANSFER_UNMAPPED = "transfer_unmapped"
    LIGHTSPEED_AUTHORIZE = "lightspeed_authorize"
    LOCATION_ACTIVATE = "location_activate"
    LOCATION_DEACTIVATE = "location_deactivate"
    LOCATION_PAUSE = "location_pause"
    LOCATION_RESUME = "location_resume"
    LOCATION_STORAGE = "location_storage"
    LOCATION_MIGRATE = "location_migrate"
    SIDES_USERNAME = "sides_username"
    SIDES_PASSWORD = "sides_password"
    MAP_OPEN = "map_open"
    ITEM_IGNORE = "item_ignore"
    MAP_TARGET = "map_target"
    MAP_FACTOR = "map_factor"
    REPROCESS = "reprocess"
    MAPPING_REMOVE = "mapping_remove"
    ITEM_UNIGNORE = "item_unignore"
    MAPPINGS_PAGE = "mappings_page"
    LEDGER_WHY = "ledger_why"
    LEDGER_BALANCES_ALL = "ledger_balances_all"
    JOB_RETRY = "job_retry"
    JOB_CANCEL = "job_cancel"
    CATCH_UP = "catch_up"
    CONNECTION_RECONNECT = "connection_reconnect"
    CSV_IMPORT = "csv_import"
    CSV_CANCEL = "csv_cancel"
    CSV_UNDO = "csv_undo"
    CSV_DATE = "csv_date"
    CSV_FILE = "csv_file"
    CSV_PROFILE = "csv_profile"
    STOCK_QUANTITY = "stock_quantity"
    STOCK_DATE = "stock_date"
    STOCK_LINES = "stock_lines"
    STOCK_NOTE = "stock_note"
    STOCK_TEMPLATE = "stock_template"
    STOCK_FILE_POST = "stock_file_post"
    STOCK_FILE_CANCEL = "stock_file_cancel"


class BlockId(StrEnum):
    SIDES_USERNAME = "sides_username_block"
    SIDES_PASSWORD = "sides_password_block"
    MAP_TARGET = "map_target_block"
    MAP_FACTOR = "map_factor_block"
    CSV_DATE = "csv_date_block"
    CSV_FILE = "csv_file_block"
    CSV_PROFILE = "csv_profile_block"
    STOCK_DATE = "stock_date_block"
    STOCK_LINES = "stock_lines_block"
    STOCK_NOTE = "stock_note_block"
    STOCK_INGREDIENT_PREFIX = "stock_ingredient:"
    """A count sheet's input block per ingredient: this prefix and the ingredient's id."""


class CallbackId(StrEnum):
    CONNECT_SIDES = "connect_sides"
    MAP_ITEM = "map_item"
    CSV_UPLOAD = "csv_upload"
    CSV_PROFILE_FORM = "csv_profile_form"
    STOCK_COUNT = "stock_count"
    STOCK_FORM = "stock_form"


class CsvProfileField(StrEnum):
    """Inputs of the CSV profile modal: block and action id are both the profile key set."""

    NAME = "name"
    SOURCE_COLUMN = "source_column"
    QUANTITY_SOURCE_COLUMN = "quantity_source_column"
    DATE_SOURCE_COLUMN = "date_source_column"
    DELIMITER = "delimiter"
    ENCODING = "encoding"
    DECIMAL_SEPARATOR = "decimal_separator"
    DATE_FORMATS = "date_formats"
    CODE_SEPARATOR = "code_separator"
    LOCATION_COLUMN = "location_column"
    DEFAULT_QUANTITY = "default_quantity"
    LOCATION_NAME = "location_name"
    LOCATION_TIMEZONE = "location_timezone"
    LOCATION_STORAGE_UNIT = "location_storage_unit"
