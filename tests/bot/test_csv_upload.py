"""CSV upload from Slack over real HTTP: a shared file gets a threaded preview; Import,
Cancel and Undo work from its buttons, for admins of the company only."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.mapping import import_mappings
from stockpot.core.models import (
    CsvImport,
    ImportStatus,
    Job,
    JobKind,
    LedgerMovement,
    TransferRun,
)
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import posted, reply, texts
from tests.core.csv_import.files import GERMAN, KASSE, MAPPINGS, TABBED
from tests.holds import Hold

THREAD = "1700000000.000100"


def setup(bot) -> None:
    import_catalog(bot.database.factory, KASSE, source="kasse.yaml")
    for name in ("Kasse", "Bons"):
        import_mappings(bot.database.factory, MAPPINGS.format(name=name), source="m.yaml")
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")


def share(bot, file_id: str, name: str, content: bytes):
    bot.slack.add_file(file_id, name, content)
    response = bot.send.event(
        {"type": "file_shared", "file_id": file_id, "channel_id": "C0001", "user_id": ADMIN},
        event_id=f"Ev{file_id}",
    )
    assert response.status_code == 200
    bot.drain()
    return posted(bot, f"CSV {name}")


def value_of(call, action_id: str) -> str:
    for block in call.args.get("blocks") or json.loads(call.args.get("blocks", "[]")):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element.get("value", "")
    raise AssertionError(f"no {action_id} in {texts(call)}")


def movements(bot) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerMovement))


def jobs(bot, kind: JobKind) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.kind == kind))


def updates(bot, ts: str, containing: str) -> list:
    """The ``chat.update`` calls that put ``containing`` into the message ``ts``."""
    return [
        c
        for c in bot.slack.calls
        if c.method == "chat.update" and c.args["ts"] == ts and containing in texts(c)
    ]


def test_preview_import_and_undo_in_one_message_of_the_thread(bot):
    """The preview becomes "Importing…", then the import's outcome with Undo import, then the
    undo's outcome: one message in the file's thread, updated in place; each button is gone
    once pressed, and a stale copy of it does nothing twice."""
    setup(bot)
    preview = share(bot, "F1", "kasse.csv", GERMAN)
    assert preview.args["thread_ts"] == THREAD
    shown = texts(preview)
    assert "read with *Kasse (CSV)*: cp1252, semicolon, 5 rows" in shown
    assert "dates 2026-11-27, 2026-11-28" in shown and "777 sold 1" in shown
    # the catalog's name of a code it knows, so the rows can be checked against the till
    assert "Margherita (101) × 2" in shown and "Espresso (300) × 3" in shown
    assert movements(bot) == 0  # a preview posts nothing

    viewer = bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=VIEWER)
    assert viewer.status_code == 200
    reply(bot, "admin")
    assert movements(bot) == 0

    stale = bot.slack.workspace.message(preview.ts).payload()
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    importing = reply(bot, "Importing, started by <@UADMIN>")
    assert importing.args["replace_original"]
    assert "5 rows" in texts(importing), "the preview stays readable while it imports"
    assert ActionId.CSV_IMPORT not in texts(importing) and ActionId.CSV_CANCEL not in texts(
        importing
    )
    bot.drain()
    (done,) = updates(bot, preview.ts, "Imported kasse.csv")
    # the file and its days, as the user knows the import (no command takes its number)
    assert "Imported *kasse.csv* by <@UADMIN>: 5 rows" in texts(
        done
    ) and "Filiale Mitte, 2026-11-28" in texts(done)
    assert "import 1" not in texts(done).casefold()
    assert "Importing" not in bot.slack.workspace.message(preview.ts).text
    assert not [
        c for c in bot.slack.calls if c.method == "chat.postMessage" and "Imported" in texts(c)
    ]
    with bot.database.session() as session:
        kinds = set(session.scalars(select(TransferRun.kind)))
        assert {kind.value for kind in kinds} == {"csv"}
    posted_once = movements(bot)
    assert posted_once > 0

    # A stale copy of the preview (another device) pressed again: nothing more happens.
    bot.send.action(
        {
            "type": "button",
            "action_id": ActionId.CSV_IMPORT,
            "value": value_of(preview, ActionId.CSV_IMPORT),
        },
        user=ADMIN,
        message=stale,
    )
    reply(bot, "already imported from this preview")
    bot.send.action(
        {
            "type": "button",
            "action_id": ActionId.CSV_CANCEL,
            "value": value_of(preview, ActionId.CSV_CANCEL),
        },
        user=ADMIN,
        message=stale,
    )
    reply(bot, "import has started")
    bot.drain()
    assert jobs(bot, JobKind.CSV_IMPORT) == 1 and movements(bot) == posted_once
    assert "Imported kasse.csv" in bot.slack.workspace.message(preview.ts).text

    again = share(bot, "F2", "kasse-copy.csv", GERMAN)
    assert "already imported (same content)" in texts(again) and "Import again" in texts(again)
    assert json.loads(value_of(again, ActionId.CSV_IMPORT))["force"] is True

    result = bot.slack.workspace.message(preview.ts).payload()
    bot.send.click(preview.ts, ActionId.CSV_UNDO, user=ADMIN)
    assert ActionId.CSV_UNDO not in texts(reply(bot, "Undoing the import of kasse.csv"))
    bot.drain()
    (undone,) = updates(bot, preview.ts, "Import of kasse.csv undone")
    assert "undone by <@UADMIN>: 2 days now as if it had never been imported" in texts(undone)
    assert "Filiale Mitte, 2026-11-27" in texts(undone)
    assert "thread_ts" not in undone.args  # chat.update edits the message where it is
    assert not [
        c for c in bot.slack.calls if c.method == "chat.postMessage" and "undone" in texts(c)
    ]
    with pytest.raises(AssertionError, match="shows no csv_undo button"):
        bot.send.click(preview.ts, ActionId.CSV_UNDO, user=ADMIN)
    with bot.database.session() as session:
        assert session.get(CsvImport, 1).status is ImportStatus.UNDONE
        total = session.scalar(select(func.sum(LedgerMovement.quantity)))
        assert total == Decimal(0)

    # The import's message as another device still shows it: Undo import pressed again.
    bot.send.action(
        {"type": "button", "action_id": ActionId.CSV_UNDO, "value": "1"},
        user=ADMIN,
        message=result,
    )
    again = texts(reply(bot, "is already undone"))
    assert "The import of kasse.csv is already undone by <@UADMIN>" in again
    # on the company's clock (its first location is in Rome), not UTC's
    assert re.search(r"by <@UADMIN> at \d{4}-\d\d-\d\d \d\d:\d\d CES?T;", again), again
    bot.drain()
    assert jobs(bot, JobKind.CSV_UNDO) == 1
    assert len(updates(bot, preview.ts, "Import of kasse.csv undone")) == 1
    with bot.database.session() as session:
        assert session.scalar(select(func.sum(LedgerMovement.quantity))) == Decimal(0)


def test_errors_are_listed_and_only_valid_rows_can_be_imported(bot):
    setup(bot)
    bad = b"Datum;Artikelnummer;Menge\n27.11.2026;101;zwei\n27.11.2026;=1+1;1\n27.11.2026;300;1\n"
    preview = share(bot, "F3", "bad.csv", bad)
    shown = texts(preview)
    assert "3 rows, dates" in shown and "1 error; nothing is imported" in shown
    assert "line 2, column 'Menge': value 'zwei' is not a number" in shown
    assert "'=1+1 sold 1" in shown  # a formula-like code is shown inert, never evaluated
    assert "Import valid rows only" in shown
    value = json.loads(value_of(preview, ActionId.CSV_IMPORT))
    assert value["valid_only"] is True

    bot.send.click(preview.ts, ActionId.CSV_CANCEL, user=ADMIN)
    reply(bot, "nothing was imported")
    assert movements(bot) == 0


def test_a_preview_counts_one_row_as_one_row(bot):
    """A kitchen manager read "1 rows read" and "1 errors" under a one-line file."""
    setup(bot)
    one = b"Datum;Artikelnummer;Menge\n27.11.2026;101;2\n"
    preview = share(bot, "F31", "one.csv", one)
    assert preview.args["text"] == "CSV one.csv: 1 row read"
    assert "1 row, dates 2026-11-27" in texts(preview) and "1 rows" not in texts(preview)


def test_a_file_without_dates_takes_the_date_picked(bot):
    setup(bot)
    preview = share(bot, "F4", "bons.tsv", TABBED)
    assert "read with *Bons (CSV)*: utf-8-sig, tab" in texts(preview)
    assert ActionId.CSV_DATE.value in texts(preview)
    state = {
        BlockId.CSV_DATE: {ActionId.CSV_DATE: {"type": "datepicker", "selected_date": "2026-11-20"}}
    }
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN, state=state)
    bot.drain()
    (done,) = updates(bot, preview.ts, "Imported bons.tsv")
    assert "Room, 2026-11-20" in texts(done) and "Terrace, 2026-11-20" in texts(done)


def test_unreadable_files_are_answered_in_the_thread(bot):
    setup(bot)
    empty = share(bot, "F5", "empty.csv", b"")
    assert "the file is empty" in texts(empty)
    other = share(bot, "F6", "other.csv", b"Foo;Bar\n1;2\n")
    assert "has no column source_column 'Artikelnummer'" in texts(other)
    assert movements(bot) == 0


def test_import_of_a_file_deleted_after_its_preview_says_so_and_posts_nothing(bot, caplog):
    """Someone deletes the shared file while its preview still shows Import: Slack's
    ``files.info`` answers ``file_not_found``. The import is refused saying the file is gone
    and to share it again, with no Retry (it failed "unexpectedly", with a traceback, and
    offered a Retry that could only fail again)."""
    setup(bot)
    preview = share(bot, "F7", "kasse.csv", GERMAN)
    del bot.slack.files["F7"]
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    reply(bot, "Importing, started by <@UADMIN>")
    refused = bot.slack.wait_for(
        "chat.update", where=lambda c: c.args["ts"] == preview.ts and "refused" in texts(c)
    )[0]
    bot.drain()
    assert "is no longer in Slack" in texts(refused) and "share it again" in texts(refused)
    assert ActionId.JOB_RETRY not in texts(refused)
    assert movements(bot) == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_an_import_after_a_reinstall_without_files_read_says_which_permission_to_grant(bot, caplog):
    """The workspace installed the app again granting fewer permissions, without
    ``files:read``, while a preview still shows Import: ``files.info`` answers
    ``missing_scope``. The import failed "unexpectedly (SlackApiError)", with a traceback at
    each of its attempts; it is refused at once naming the permission and the fix."""
    setup(bot)
    preview = share(bot, "F11", "kasse.csv", GERMAN)
    bot.slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if s != "files:read"])
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    refused = bot.slack.wait_for(
        "chat.update", where=lambda c: c.args["ts"] == preview.ts and "refused" in texts(c)
    )[0]
    bot.drain()
    told = texts(refused)
    assert "`files:read`" in told and "installs Stockpot again" in told, told
    assert movements(bot) == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_a_file_dated_outside_the_dates_stockpot_works_with_is_refused_by_line(bot):
    """A till export with a typed year (27.11.2999, 01.01.1900) was previewed with Import
    and imported: movements dated 2999 and 1900 were posted. Each such row is a problem of
    its line, and a date picked for a file without dates meets the same rule."""
    setup(bot)
    typos = (
        "Datum;Artikelnummer;Bezeichnung;Menge;Betrag\r\n"
        "27.11.2999;101;Pizza Margherita;2;17,00 €\r\n"
        "01.01.1900;300;Espresso;3;7,50 €\r\n"
    ).encode("cp1252")
    shown = texts(share(bot, "F8", "typos.csv", typos))
    assert "line 2" in shown and "line 3" in shown, shown
    assert shown.count("outside the dates Stockpot works with") == 2, shown
    preview = bot.slack.wait_for("chat.postMessage", where=lambda c: "typos.csv" in texts(c))[0]
    assert ActionId.CSV_IMPORT not in texts(preview)
    undated = share(bot, "F9", "bons.tsv", TABBED)
    state = {
        BlockId.CSV_DATE: {ActionId.CSV_DATE: {"type": "datepicker", "selected_date": "1900-01-01"}}
    }
    bot.send.click(undated.ts, ActionId.CSV_IMPORT, user=ADMIN, state=state)
    refused = bot.slack.wait_for(
        "chat.update", where=lambda c: c.args["ts"] == undated.ts and "refused" in texts(c)
    )[0]
    assert "1900-01-01 is outside the dates Stockpot works with" in texts(refused)
    # Retry would read the same file with the same date: what helps is a new preview.
    assert ActionId.JOB_RETRY not in texts(refused)
    assert "share it again in this channel (or upload it with `/pos csv`)" in texts(refused)
    bot.drain()
    assert movements(bot) == 0


def test_an_import_whose_download_failed_offers_retry_and_retry_imports(bot):
    """Slack's file host failed the download: the file is fine, so the refusal keeps
    Retry (and no advice to fix the file), and Retry imports it."""
    setup(bot)
    preview = share(bot, "F10", "kasse.csv", GERMAN)
    bot.slack.faults.add(Fault.status(500), path=r"^/files/", times=1)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    refused = bot.slack.wait_for(
        "chat.update", where=lambda c: c.args["ts"] == preview.ts and "refused" in texts(c)
    )[0]
    bot.drain()
    assert "the download failed (HTTP 500)" in texts(refused)
    assert "Fix the file" not in texts(refused) and movements(bot) == 0
    bot.send.click(preview.ts, ActionId.JOB_RETRY, user=ADMIN)
    bot.drain()
    assert updates(bot, preview.ts, "Imported kasse.csv") and movements(bot) > 0


def test_a_file_deleted_before_its_share_is_read_is_not_previewed_and_not_an_error(bot, caplog):
    """``file_shared`` for a file deleted right after it was shared (``files.info`` answers
    ``file_not_found``): nothing to preview, no "Something went wrong" told to the one who
    shared it, no traceback."""
    setup(bot)
    response = bot.send.event(
        {"type": "file_shared", "file_id": "FGONE", "channel_id": "C0001", "user_id": ADMIN},
        event_id="EvFGONE",
    )
    assert response.status_code == 200
    bot.slack.wait_for("files.info", where=lambda c: c.args.get("file") == "FGONE")
    bot.drain()
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert jobs(bot, JobKind.CSV_PREVIEW) == 0


def test_pos_csv_opens_a_modal_whose_file_gets_the_same_preview(bot):
    setup(bot)
    bot.slack.add_file("F7", "kasse.csv", GERMAN)
    bot.send.command("/pos", "csv", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == CallbackId.CSV_UPLOAD
    missing = {BlockId.CSV_FILE: {ActionId.CSV_FILE: {"type": "file_input", "files": []}}}
    refused = bot.send.view_submission(view, missing, user=ADMIN).json()
    assert refused["errors"][BlockId.CSV_FILE] == "Choose the export to import"
    values = _kasse_form(view, "F7")
    hold = Hold()
    arrived, release = hold.arrived, hold.release

    bot.slack.faults.add(Fault(before=hold), path=r"^/files/", times=1)
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    assert arrived.wait(30), "the preview's job is reading the file"
    # The same file submitted again meanwhile: one preview, and the second is told so.
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    told = bot.slack.wait_for("chat.postEphemeral")[0]
    assert told.args["user"] == ADMIN and told.args["text"] == (
        "The same preview of kasse.csv is already under way; its result follows in this channel."
    )
    release.set()
    bot.drain()
    preview = posted(bot, "CSV kasse.csv")
    assert len([c for c in bot.slack.calls if "CSV kasse.csv" in texts(c)]) == 1
    assert "read with *Kasse (CSV)*: cp1252, semicolon, 5 rows" in texts(preview)
    assert "thread_ts" not in preview.args
    bot.send.command("/pos", "csv", user=VIEWER)
    reply(bot, "admin")


def _kasse_form(view: dict, file_id: str) -> dict:
    """The /pos csv modal's values: kasse.csv (shared as ``file_id``), read with the Kasse
    profile, no date picked."""
    profile = next(b for b in view["blocks"] if b.get("block_id") == BlockId.CSV_PROFILE)
    kasse = next(o for o in profile["element"]["options"] if o["value"] and "Kasse" in str(o))
    chosen = [{"id": file_id, "name": "kasse.csv"}]
    return {
        BlockId.CSV_FILE: {ActionId.CSV_FILE: {"type": "file_input", "files": chosen}},
        BlockId.CSV_PROFILE: {
            ActionId.CSV_PROFILE: {"type": "static_select", "selected_option": kasse}
        },
        BlockId.CSV_DATE: {ActionId.CSV_DATE: {"type": "datepicker", "selected_date": None}},
    }


def _field(key: str, value: str) -> dict:
    return {key: {key: {"type": "plain_text_input", "value": value}}}


def _choice(key: str, value: str) -> dict:
    return {key: {key: {"type": "static_select", "selected_option": {"value": value}}}}


def test_a_profile_is_created_and_edited_in_a_modal_with_errors_on_their_input(bot):
    setup(bot)
    bot.send.command("/pos", "csv profile", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == CallbackId.CSV_PROFILE_FORM
    values = {
        **_field("name", "Kasse Süd"),
        **_field("source_column", "Artikel"),
        **_field("quantity_source_column", "Menge"),
        **_field("date_formats", "%d.%m"),
        **_choice("delimiter", ";"),
        **_choice("decimal_separator", ","),
        **_field("location_name", "Filiale Süd"),
        **_choice("location_storage_unit", "Kitchen"),
        **_field("location_timezone", "Europe/Berlin"),
    }
    refused = bot.send.view_submission(view, values, user=ADMIN).json()
    assert "needs %d, %m and %Y" in refused["errors"]["date_formats"]
    values.update(_field("date_formats", "%d.%m.%Y, %Y-%m-%d"))
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    posted(bot, "saved the CSV profile Kasse Süd")
    with bot.database.session() as session:
        from stockpot.core.models import Connection, ExternalLocation

        saved = session.scalar(select(Connection).where(Connection.name == "Kasse Süd"))
        assert saved.settings["delimiter"] == ";" and saved.settings["rules"][0]["source_column"]
        assert (
            session.scalar(
                select(ExternalLocation.name).where(ExternalLocation.connection_id == saved.id)
            )
            == "Filiale Süd"
        )

    bot.send.command("/pos", "csv profile Kasse Süd", user=ADMIN)
    edit = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    source = next(b for b in edit["blocks"] if b.get("block_id") == "source_column")
    assert source["element"]["initial_value"] == "Artikel"
    renamed = bot.send.view_submission(edit, {**values, **_field("name", "Other")}, user=ADMIN)
    assert "renaming is not supported" in renamed.json()["errors"]["name"]


def test_the_same_file_imported_from_two_previews_at_once_is_imported_once(bot):
    """Two people share the same export (two previews, each offering Import) and both press
    Import while the first import runs: the days are posted once; one preview becomes the
    import, the other says it was already imported (whichever job ran first)."""
    setup(bot)
    first = share(bot, "F1", "kasse.csv", GERMAN)
    second = share(bot, "F2", "kasse-copy.csv", GERMAN)
    assert "already imported" not in texts(second), "nothing is imported yet"
    hold = Hold()
    bot.slack.faults.add(Fault(before=hold), path="files.info", times=1)
    bot.send.click(first.ts, ActionId.CSV_IMPORT, user=ADMIN)
    assert hold.arrived.wait(30), "the first import is running, held on reading its file"
    bot.send.click(second.ts, ActionId.CSV_IMPORT, user=ADMIN)
    # Both clicks' notes (the first's alone was already there): the second click was handled
    # while the first import is held.
    bot.slack.wait_for(
        "response_url", 2, where=lambda c: "Importing, started by <@UADMIN>" in texts(c)
    )
    hold.release.set()
    bot.drain()
    with bot.database.session() as session:
        imports = session.scalars(select(CsvImport)).all()
        runs = session.scalar(select(func.count()).select_from(TransferRun))
    assert [i.status for i in imports].count(ImportStatus.IMPORTED) == 1, imports
    assert runs == 2, "two days, each posted once"
    outcomes = {
        preview.ts: [
            texts(c)
            for c in bot.slack.calls
            if c.method == "chat.update" and c.args["ts"] == preview.ts
        ]
        for preview in (first, second)
    }
    imported = [ts for ts, said in outcomes.items() if any("Imported" in t for t in said)]
    refused = [
        ts
        for ts, said in outcomes.items()
        if any("was already imported (" in t and "same content)" in t for t in said)
    ]
    assert len(imported) == 1 and len(refused) == 1 and imported != refused, outcomes
    # Retry would be refused the same (it offered one, and "--force", a flag of the CLI).
    last = outcomes[refused[0]][-1]
    assert ActionId.JOB_RETRY not in last and "--force" not in last, last
    assert (
        "This file was imported meanwhile; that import's message's *Undo import* takes its "
        "sales back"
    ) in last


def test_importing_a_file_whose_threaded_preview_imports_it_points_to_that_thread(bot):
    """The shared file's preview (in the file's thread) is importing it when Import is pressed
    on a preview of the same file from `/pos csv` (in the channel itself): the note says the
    result replaces the message in the thread, where it is, not just "in this channel"."""
    setup(bot)
    threaded = share(bot, "F1", "kasse.csv", GERMAN)
    assert threaded.args["thread_ts"] == THREAD
    bot.send.command("/pos", "csv", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = _kasse_form(view, "F1")
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    bot.drain()
    top = [
        c
        for c in bot.slack.calls
        if c.method == "chat.postMessage" and "CSV kasse.csv" in texts(c) and c.ts != threaded.ts
    ][-1]
    assert "thread_ts" not in top.args
    hold = Hold()
    bot.slack.faults.add(Fault(before=hold), path="files.info", times=1)
    bot.send.click(threaded.ts, ActionId.CSV_IMPORT, user=ADMIN)
    assert hold.arrived.wait(30), "the threaded preview's import is running"
    bot.send.click(top.ts, ActionId.CSV_IMPORT, user=ADMIN)
    reply(
        bot,
        "The same import of this file is already under way; its result follows in a thread of "
        "this channel, in place of the message it was started from.",
    )
    hold.release.set()
    bot.drain()
