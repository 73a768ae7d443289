"""Downloading a file shared in Slack, safely: the bot token only goes to Slack's file hosts,
redirects are not followed, an HTML answer (Slack's login page: no access) is refused, and the
download stops at a size limit."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.missing_scope import missing_permission
from stockpot.core.csv_import.shared import FileReader, check_reader
from stockpot.core.db import SessionFactory
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.pos.http import transport
from stockpot.core.settings import Settings


class FileRefused(StockpotError):
    code = "file_refused"


class FileGone(FileRefused):
    """Deleted since it was shared (or the bot cannot see it): only sharing it again helps."""


def allowed_host(url: str, hosts: str) -> bool:
    split = urlsplit(url)
    host = (split.hostname or "").lower()
    allowed = [h.strip().lower() for h in hosts.split(",") if h.strip()]
    return any(host == h or host.endswith(f".{h}") for h in allowed) and split.scheme in (
        "https",
        "http",
    )


@dataclass(frozen=True)
class SizeLimit:
    """The most Stockpot reads of one kind of file, and what to do with a larger one."""

    max_bytes: int
    advice: str = "split it by date and share the parts"
    reads: str = "from Slack"

    def refusal(self) -> str:
        size = (
            f"{self.max_bytes // (1024 * 1024)} MB"
            if self.max_bytes >= 1024 * 1024
            else f"{self.max_bytes // 1024} KB"
        )
        return (
            f"the file is larger than {size}, the most Stockpot reads {self.reads}; {self.advice}"
        )


COUNT_FILE_LIMIT = SizeLimit(
    512 * 1024,
    "a count sheet of 5,000 ingredients is about 200 KB; a till export is imported with `/pos csv`",
    "for a count file",
)
"""Count files are read where they are shared (``handlers.stock_files``): a few KB each, so
held far below a till export's limit; a 19 MB file shared as ``count-Kitchen.csv`` took 27 s
of CPU."""


IN_MEMORY = 1024 * 1024
"""Bytes of a download kept in memory; the rest of the file goes to a temporary file."""


def download(url: str, token: str, *, hosts: str, limit: SizeLimit) -> BinaryIO:
    """The file at ``url`` as a seekable stream: at most ``IN_MEMORY`` bytes of it in memory,
    the rest spooled to disk as it arrives. The caller closes it."""
    if not allowed_host(url, hosts):
        raise FileRefused(
            f"the file is not on a Slack file host ({urlsplit(url).hostname}); it was not "
            "downloaded"
        )
    client = httpx.Client(
        timeout=httpx.Timeout(30, connect=5), follow_redirects=False, transport=transport()
    )
    headers = {"Authorization": f"Bearer {token}"}
    with client, client.stream("GET", url, headers=headers) as answer:
        if answer.is_redirect:
            raise FileRefused("Slack redirected the download elsewhere; it was not followed")
        if answer.status_code != 200:
            raise FileRefused(f"the download failed (HTTP {answer.status_code})")
        if "text/html" in answer.headers.get("content-type", ""):
            raise FileRefused(
                "Slack answered with a web page instead of the file: the bot cannot see it "
                "(invite it to the channel)"
            )
        spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 - returned
        try:
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > limit.max_bytes:
                    raise FileRefused(limit.refusal())
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
    spool.seek(0)
    return cast(BinaryIO, spool)


CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def is_csv(info: dict[str, Any]) -> bool:
    name = str(info.get("name", "")).lower()
    return info.get("filetype") in ("csv", "tsv") or name.endswith(CSV_SUFFIXES)


GONE = frozenset({"file_not_found", "file_deleted"})
"""``files.info`` errors for a file deleted since it was shared (or one the bot cannot see)."""


def file_info(client: WebClient, file_id: str) -> dict[str, Any]:
    """``files.info``'s file; a file deleted since it was shared is ``FileRefused``, and
    an install without ``files:read`` ``MissingPermission`` (a job tells it, not retried)."""
    try:
        return dict(client.files_info(file=file_id)["file"])
    except SlackApiError as error:
        if error.response.get("error") in GONE:
            raise FileGone(
                f"the file {file_id} is no longer in Slack (deleted since it was shared?); "
                "share it again"
            ) from None
        refused = missing_permission(error)
        if refused is None:
            raise
        raise refused from None


def fetch_csv(
    settings: Settings,
    client: WebClient,
    file_id: str,
    *,
    reader: FileReader,
    factory: SessionFactory,
    limit: SizeLimit | None = None,
) -> tuple[str, BinaryIO]:
    """A shared CSV file's name and contents (a stream the caller closes), for ``reader``
    only (``check_reader``: the file id is the client's to send), from Slack's file hosts
    only, within the size limit (``limit``, else ``SLACK_FILE_MAX_BYTES``): a file Slack says
    is larger is refused before it is downloaded, and a download that grows past the limit is
    cut off."""
    limit = limit or SizeLimit(settings.slack.file_max_bytes)
    info = file_info(client, file_id)
    check_reader(factory, info, reader)
    if not is_csv(info):
        raise ValidationFailed(f"{info.get('name')} is not a CSV file (.csv, .tsv or .txt)")
    if int(info.get("size") or 0) > limit.max_bytes:
        raise FileRefused(limit.refusal())
    data = download(
        str(info.get("url_private_download") or info.get("url_private") or ""),
        client.token or "",
        hosts=settings.slack.file_hosts,
        limit=limit,
    )
    return str(info.get("name") or file_id), data
