"""CSV files shared in a bound channel: read once, only from Slack's file hosts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from stockpot.bot.slack_files import FileRefused, SizeLimit, allowed_host, download
from stockpot.core.csv_import.shared import first_share
from stockpot.core.models import SlackFileEvent
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import posted, reply, texts

CSV = b"\xef\xbb\xbfDatum;Artikelnummer;Menge\n27.11.2026;101;2\n27.11.2026;230;1,5\n"


def share(bot, file_id: str, event_id: str = "Ev1"):
    return bot.send.event(
        {"type": "file_shared", "file_id": file_id, "channel_id": "C0001", "user_id": ADMIN},
        event_id=event_id,
    )


def test_files_elsewhere_html_answers_and_big_files_are_refused(bot):
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "now works for")
    bot.slack.add_file("F2", "evil.csv", CSV, url="https://attacker.example/steal.csv")
    share(bot, "F2", "Ev2")
    assert "not on a Slack file host (attacker.example)" in texts(posted(bot, "evil.csv"))
    bot.slack.add_file("F3", "page.csv", b"<html></html>", content_type="text/html")
    share(bot, "F3", "Ev3")
    assert "web page instead of the file" in texts(posted(bot, "page.csv"))
    bot.slack.add_file("F4", "big.csv", CSV * 1000)
    url = bot.slack.files["F4"]["info"]["url_private_download"]
    with pytest.raises(FileRefused, match="larger than"):
        download(url, "xoxb-sandbox", hosts="127.0.0.1", limit=SizeLimit(1000))
    assert (
        download(url, "xoxb-sandbox", hosts="127.0.0.1", limit=SizeLimit(10**6)).read()
        == CSV * 1000
    )


def test_a_file_event_is_handled_once(bot):
    assert first_share(bot.database.factory, "T0001", "F9", "C0001") is True
    assert first_share(bot.database.factory, "T0001", "F9", "C0001") is False
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(SlackFileEvent)) == 1


def test_only_slack_file_hosts_get_the_token():
    hosts = "files.slack.com"
    assert allowed_host("https://files.slack.com/files-pri/T1-F1/x.csv", hosts)
    assert allowed_host("https://eu.files.slack.com/x.csv", hosts)
    assert not allowed_host("https://files.slack.com.evil.io/x.csv", hosts)
    assert not allowed_host("https://evilfiles.slack.com@evil.io/x.csv", hosts)
    assert not allowed_host("file:///etc/passwd", hosts)
