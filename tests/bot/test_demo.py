"""``stockpot demo`` end to end in a real browser: the README's walkthrough, typed and clicked
in the stand-in's page (Chromium headless, driven by Playwright), against the real bot, the
real connectors and the real database. Screenshots of every step go to ``screenshots/``
(``STOCKPOT_SCREENSHOTS`` to put them elsewhere), for a person to look at."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from stockpot.bot.demo import Demo
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.models import Company, LedgerMovement
from stockpot.sandbox.http import Fault
from stockpot.sandbox.slack import SlackStandIn

EXPORT = files("stockpot.sandbox.demo").joinpath("kasse-export.csv")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("STOCKPOT_SCREENSHOTS", ROOT / "screenshots")) / "demo-walkthrough"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's `chromium` (.ci/run does)",
)


@pytest.fixture
def demo(tmp_path) -> Iterator[tuple[Demo, str]]:
    running = Demo(data_dir=tmp_path / "demo", port=0)
    url = running.start()
    try:
        yield running, url
    finally:
        running.stop()


@pytest.fixture
def page(demo):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 1000})
            tab.set_default_timeout(30_000)
            tab.goto(demo[1])
            yield tab
        finally:
            browser.close()


class Walk:
    """Types into the message box, clicks, and keeps a numbered screenshot of each step."""

    def __init__(self, page) -> None:
        self.page = page
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(SHOTS / f"{self.step:02d}-{name}.png"), full_page=True)

    def say(self, text: str) -> None:
        box = self.page.get_by_test_id("message-box")
        box.fill(text)
        box.press("Enter")

    def messages(self):
        return self.page.get_by_test_id("messages")

    def latest(self, containing: str):
        return self.page.get_by_test_id("message").filter(has_text=containing).last

    def confirm(self, shot: str | None = None) -> None:
        """Slack's confirmation dialog of the button just pressed: say yes."""
        from playwright.sync_api import expect

        dialog = self.page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        if shot:
            self.shot(shot)
        dialog.get_by_test_id("confirm-yes").click()
        expect(dialog).to_be_hidden()

    def pinned(self, containing: str, *, after: int = 0):
        """The latest message saying ``containing``, held by its ``ts``: still that message
        once it is redrawn and says something else. ``after``: how many said it before the
        command just typed (its answer is the next one, not the last of those)."""
        from playwright.sync_api import expect

        saying = self.page.get_by_test_id("message").filter(has_text=containing)
        expect(saying).to_have_count(after + 1)
        ts = saying.last.get_attribute("data-ts")
        return self.page.locator(f"[data-testid=message][data-ts='{ts}']")

    def count(self, containing: str) -> int:
        return self.page.get_by_test_id("message").filter(has_text=containing).count()

    def saying(self, containing: str) -> int:
        """How many messages of the channel (threads included, each counted on its own) say
        ``containing``: read from the stand-in's state, what the page draws."""
        state = self.page.request.get(self.page.url.rstrip("/") + "/ui/state").json()
        return sum(
            containing in json.dumps([m["text"], m["blocks"]], ensure_ascii=False)
            for m in state["messages"]
        )


@pytest.mark.slow
def test_the_readme_walkthrough_in_a_browser(demo, page):
    from playwright.sync_api import expect

    walk = Walk(page)
    expect(walk.latest("Welcome to the Stockpot demo")).to_be_visible()
    walk.shot("welcome")

    walk.say("/pos help")
    helped = walk.latest("/pos — what it can do")
    # Escaped as Slack requires, the placeholders show (they vanish unescaped in real Slack).
    expect(helped).to_contain_text("/pos setup <company>")
    expect(helped).to_contain_text("e.g. /pos setup Pizzeria Beispiel")
    walk.shot("pos-help")
    walk.say("/pos sycn")
    expect(walk.latest("is not a command")).to_contain_text("Did you mean /pos sync?")
    walk.say("/frobnicate")
    expect(walk.latest("is not a valid command")).to_contain_text("Slackbot")

    walk.say("/pos connect sides")
    modal = page.get_by_test_id("modal")
    expect(modal).to_contain_text("Connect SIDES")
    fields = modal.locator("input")
    fields.nth(0).fill("inventory@pizzeria-beispiel.de")
    fields.nth(1).fill("not the password")
    page.get_by_test_id("modal-submit").click()
    expect(page.get_by_test_id("modal-error")).to_contain_text(
        "with this password: check the username and password"
    )
    walk.shot("connect-sides-refused")
    fields.nth(1).fill("s3cret")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_be_hidden()
    expect(walk.messages()).to_contain_text("connected SIDES for Pizzeria Beispiel")
    walk.shot("connected")

    walk.say("/pos sync")
    expect(walk.messages()).to_contain_text("Sync of SIDES, done: locations 2 new")
    walk.shot("synced")

    walk.say("/pos locations")
    listing = walk.latest("Locations of Pizzeria Beispiel")
    expect(listing).to_contain_text("nothing is transferred until it is activated")
    walk.shot("locations")
    teltow = listing.locator(".section", has_text="Pizzeria Beispiel Teltow")
    teltow.locator("select").select_option(label="Küche")
    # The list itself shows the change, under the location's row: no second message.
    expect(listing).to_contain_text("now takes its sales from Küche")
    expect(teltow).to_contain_text("Küche · inactive")
    teltow_buttons = listing.locator(
        "xpath=.//div[contains(@class,'section')][contains(., 'Pizzeria Beispiel Teltow')]"
        "/following-sibling::div[contains(@class,'actions')][1]"
    )
    teltow_buttons.get_by_role("button", name="Activate").click()
    expect(listing).to_contain_text("Pizzeria Beispiel Teltow activated by")
    expect(listing).to_contain_text("daily report and alerts will come to this channel")
    expect(teltow).to_contain_text("Küche · active · each closed day is transferred")
    expect(teltow_buttons.get_by_role("button", name="Activate", exact=True)).to_have_count(0)
    expect(teltow_buttons.get_by_role("button", name="Deactivate")).to_be_visible()
    assert walk.count("Locations of Pizzeria Beispiel") == 1, "the list is updated in place"
    assert walk.count("now takes its sales from") == 0, (
        "the last change's note replaces the one before"
    )
    walk.shot("activated")
    teltow_buttons.get_by_role("button", name="Migrate 90 days").click()
    walk.confirm()
    expect(listing).to_contain_text("Migrating 90 days of Pizzeria Beispiel Teltow")
    expect(walk.messages()).to_contain_text(
        "Migrated Pizzeria Beispiel Teltow: 90/90 days", timeout=120_000
    )
    assert walk.saying("Migrated Pizzeria Beispiel Teltow") == 1, "the summary, once"
    walk.shot("migrated")

    walk.say("/pos unmapped")
    unmapped = walk.pinned("Unmapped items of Pizzeria Beispiel")
    first = unmapped.locator("xpath=.//div[contains(@class,'section')][contains(., 'sold ')]")
    sold = first.first.inner_text()
    listed = re.search(r"in all: (\d+) days, ", sold) or re.search(r" days \((\d+) days, ", sold)
    assert listed, sold
    sold_on = int(listed.group(1))  # the days Reprocess offers once it is mapped: one count
    unmapped.get_by_role("button", name="Map").first.click()
    expect(modal).to_be_visible()
    search = modal.locator("[data-action-id=map_target]")
    expect(search).to_have_value("")  # nothing is chosen for the user
    search.focus()
    # no other pizza is offered for a pizza: "Pizza" alone is no reason
    expect(page.get_by_test_id("suggestions")).to_contain_text("Ingredients")
    expect(page.get_by_test_id("suggestions")).not_to_contain_text("Suggestions")
    walk.shot("map-search")
    search.fill("Mozz")
    page.get_by_test_id("suggestions").get_by_text("Mozzarella").first.click()
    modal.locator("[data-action-id=map_factor]").fill("0.1")
    walk.shot("mapping")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_be_hidden()
    expect(walk.messages()).to_contain_text("now takes")
    expect(walk.latest("now takes")).to_contain_text(f"Reprocess {sold_on} affected days")
    walk.shot("mapped")
    mapped = walk.latest("now takes").inner_text()
    item = mapped.split(" now takes", 1)[0].strip().splitlines()[-1].strip()
    # The list it was mapped from is redrawn: no stale Map on the item just mapped.
    expect(unmapped).not_to_contain_text(f"{item} (")
    expect(unmapped).to_contain_text("Unmapped items of Pizzeria Beispiel")

    # Ignore (asks first): the list loses the item, and the change offers its reprocessing.
    strudel = unmapped.locator(
        "xpath=.//div[contains(@class,'section')][contains(., 'Apfelstrudel')]"
        "/following-sibling::div[contains(@class,'actions')][1]"
    )
    strudel.get_by_role("button", name="Ignore").click()
    walk.confirm("ignore-confirm")
    ignored = walk.latest("Apfelstrudel is ignored")
    expect(
        ignored.get_by_role("button", name=re.compile(r"Reprocess \d+ affected days"))
    ).to_be_visible()
    expect(unmapped).not_to_contain_text("Apfelstrudel")
    walk.shot("ignored")
    walk.say("/pos mappings Apfelstrudel")
    listed = walk.pinned("matching “Apfelstrudel”")
    expect(listed).to_contain_text("ignored")
    listed.get_by_role("button", name="Un-ignore").click()
    walk.confirm()
    expect(walk.latest("Apfelstrudel is no longer ignored")).to_contain_text("unmapped list again")
    expect(listed).not_to_contain_text("Un-ignore")  # redrawn: nothing left to press
    walk.shot("unignored")

    walk.say(f"/pos mappings {item}")
    mappings = walk.latest(f"matching “{item}”")
    expect(mappings).to_contain_text("0.1 kg of Mozzarella")
    expect(mappings).to_contain_text(f"1 item matching “{item}”. Search with")  # not "1 item(s)"
    expect(mappings).to_contain_text(" · SIDES")
    expect(mappings).not_to_contain_text("sides:")
    walk.shot("mappings-search")
    mappings.get_by_role("button", name="Edit").first.click()
    expect(page.get_by_test_id("modal-title")).to_have_text("Edit a mapping")
    expect(modal.locator("[data-action-id=map_target]")).to_have_value("Mozzarella (kg per sale)")
    expect(modal.locator("[data-action-id=map_factor]")).to_have_value("0.1")
    expect(modal).to_contain_text("Now: 0.1 kg of Mozzarella")
    walk.shot("edit-mapping-prefilled")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_be_hidden()
    expect(walk.latest("still takes")).to_contain_text("nothing changed")
    walk.shot("edit-saved-unchanged")

    migrated_day = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
    walk.say(f"/ledger why Mozzarella {migrated_day}")
    why = walk.latest("Why Mozzarella")
    expect(why).to_contain_text("Largest contributors")
    expect(why).to_contain_text("portion of Pizza")
    expect(why).to_contain_text("125 g Mozzarella")  # as the recipe writes it
    # Its file, one day: named by that day ("2026-12-01", not "2026-12-01 to 2026-12-01").
    expect(walk.latest("Sales lines behind Mozzarella")).to_contain_text(
        f"Sales lines behind Mozzarella, {migrated_day} download"
    )
    walk.shot("ledger-why")

    walk.say("/pos recipe pizza margherita")
    expect(walk.latest("Recipe: Pizza Margherita")).to_contain_text("Pizzaboden")
    walk.shot("recipe")

    offered = walk.latest("now takes").get_attribute("data-ts")
    offer = page.locator(f"[data-testid=message][data-ts='{offered}']")
    offer.get_by_role("button", name="Reprocess").click()
    walk.confirm("reprocess-confirm")
    # Every affected day in one message, in date order, ending in a summary.
    summary = walk.latest("Reprocessed Pizza")
    expect(summary).to_contain_text("0 failed", timeout=120_000)
    expect(summary).to_contain_text("Days reprocessed, oldest first")  # its thread
    assert walk.count("Reprocessed Pizza") == 1, "one message for every day"
    assert walk.count("Posted:") == 0, "no message per day"
    expect(offer).to_contain_text(f"Reprocessing {sold_on} days")  # the spent offer is replaced
    expect(offer.get_by_role("button")).to_have_count(0)
    walk.shot("reprocessed")

    # A day surely closed: "yesterday" is still open in Berlin until its business day ends.
    closed = date.today() - timedelta(days=2)  # noqa: DTZ011 - the demo runs on this machine
    walk.say(f"/transfer {closed} Pizzeria Beispiel Teltow")
    preview = walk.latest("Preview: Pizzeria Beispiel Teltow")
    expect(preview).to_be_visible()
    # Every demo ingredient has a cost: the largest deductions are ranked by money.
    expect(preview).to_contain_text(
        re.compile(r"Largest by value, all from Küche: Mozzarella [\d.]+ kg \([\d.]+ EUR\), ")
    )
    walk.shot("transfer-preview")
    # Five unmapped items in the preview; Show all opens every one of the run's in a modal.
    shown = preview.get_by_text(re.compile(r"and \d+ more")).inner_text()
    more = int(re.search(r"and (\d+) more", shown).group(1))
    preview.get_by_role("button", name="Show all").click()
    expect(page.get_by_test_id("modal-title")).to_have_text("Unmapped items")
    expect(modal).to_contain_text(f"{more + 5} items sold but not mapped")
    assert modal.get_by_text(re.compile(r"\): sold ")).count() >= 1
    listed = modal.inner_text().count("): sold ")
    assert listed == more + 5, f"the modal lists every unmapped item ({listed} of {more + 5})"
    walk.shot("transfer-show-all")
    page.get_by_test_id("modal-close").click()
    expect(modal).to_be_hidden()
    # The migration and the reprocessing already posted that day as it is: the preview says
    # so and offers nothing to post.
    expect(preview).to_contain_text("Matches what is posted: nothing to post")
    expect(preview.get_by_role("button", name="Post to ledger")).to_have_count(0)
    # A day before the 90 migrated (the same weekday, so the pizzeria was open) is not posted
    # yet: its preview offers to post it.
    earlier = closed - timedelta(weeks=17)
    walk.say(f"/transfer {earlier} Pizzeria Beispiel Teltow")
    offer = walk.latest(f"Preview: Pizzeria Beispiel Teltow, {earlier}")
    expect(offer).to_be_visible()
    expect(offer).not_to_contain_text("Matches what is posted")
    offer.get_by_role("button", name="Post to ledger").click()
    walk.confirm("post-confirm")
    # The preview itself becomes the result (no second message, no spent button).
    result = walk.latest(f"Pizzeria Beispiel Teltow, {earlier}")
    expect(result).to_contain_text(f"Posted: Pizzeria Beispiel Teltow, {earlier}")
    assert walk.count(f"Pizzeria Beispiel Teltow, {earlier}") == 1
    expect(result).not_to_contain_text("Post to ledger")
    walk.shot("transferred")

    walk.say("/ledger balances")
    stock = walk.latest("Stock of Pizzeria Beispiel")
    # A summary per storage unit (the five largest by value), every line one click away.
    kitchen = stock.locator(".section", has_text="Küche ·")
    expect(kitchen).to_contain_text(re.compile(r"Küche · \d+ ingredients · -[\d,.]+ EUR at cost"))
    expect(kitchen).to_contain_text("Largest by value")
    assert kitchen.inner_text().count(" EUR\n") + kitchen.inner_text().endswith(" EUR") == 5
    walk.shot("balances")
    kitchen.get_by_role("button", name="Show all").click()
    expect(page.get_by_test_id("modal-title")).to_have_text("Stock")
    expect(modal).to_contain_text("Zucker: ")  # the last of the alphabet, not among the five
    walk.shot("balances-show-all")
    page.get_by_test_id("modal-close").click()
    expect(modal).to_be_hidden()

    # Names are matched as people type them; periods say what they were understood as.
    walk.say("/ledger balances Kuche")
    expect(walk.latest("Kuche")).to_contain_text("did you mean Küche?")
    walk.say("/ledger last week Küche")
    expect(walk.latest("Movements of Pizzeria Beispiel, last week")).to_contain_text(
        re.compile(r"last week: Mon \d{4}-\d\d-\d\d to Sun \d{4}-\d\d-\d\d \(7 days\)")
    )
    week = walk.latest("Net change")
    expect(week).to_contain_text(re.compile(r"\nMozzarella: -[\d.]+ kg \(\d+ movements\)"))
    # The title names the unit; the lines do not repeat it.
    expect(week.locator(".section", has_text="Net change")).not_to_contain_text("Küche ·")
    walk.shot("ledger-last-week")
    walk.say("/pos doctor Pizzeria Beispiel Teltow")
    doctor = walk.latest("Checks for Pizzeria Beispiel")
    expect(doctor).to_contain_text("Pizzeria Beispiel Teltow")
    expect(doctor).to_contain_text("2 locations reachable")  # not "2 location(s)"
    expect(doctor).to_contain_text(re.compile(r"\d+ items sold here unmapped in the last 90 days"))
    walk.shot("doctor")
    walk.say("/pos report now")
    report = page.get_by_test_id("message").filter(
        has_text=re.compile(r"Pizzeria Beispiel: \w{3} \d{4}-\d\d-\d\d")
    )
    expect(report.last).to_contain_text("Pizzeria Beispiel Teltow")
    # The storage units never counted are far below zero: a summary, not forty lines.
    expect(report.last).to_contain_text(re.compile(r"\d+ ingredients below zero \(Bar \d+, Küche"))
    assert report.last.inner_text().count(" (Küche): ") <= 5
    walk.shot("daily-report")

    page.get_by_test_id("upload-input").set_input_files(str(EXPORT))
    preview = walk.latest("read with")
    expect(preview).to_contain_text("12 rows")
    # the code the catalog does not know, named by the export's Artikel column
    expect(preview).to_contain_text("Familienpizza Hawaii (155) sold 3")
    ts = preview.get_attribute("data-ts")
    walk.shot("csv-preview")
    # The import's job waits for the file until the page has shown "Importing…" (the
    # stand-in holds its download), so the screenshot sees that state, then the result.
    slack = next(s for s in demo[0].servers if isinstance(s, SlackStandIn))
    download = threading.Event()
    slack.faults.add(Fault(before=download.wait), path=r"^/files/")
    try:
        preview.get_by_role("button", name="Import", exact=True).click()
        walk.confirm()
        answer = page.locator(f"[data-testid=message][data-ts='{ts}']")
        expect(answer).to_contain_text("Importing, started by")
        expect(answer.get_by_role("button")).to_have_count(0)  # Import, Cancel: spent
        walk.shot("csv-importing")
    finally:
        download.set()
    # One message in the file's thread: the preview, "Importing…", then the result.
    expect(answer).to_contain_text("Imported kasse-export.csv")
    expect(answer).not_to_contain_text("Importing")
    # Not "1 codes", nor "maps them".
    expect(answer).to_contain_text("1 unmapped code: /pos unmapped maps it")
    expect(answer.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    assert walk.saying("Imported kasse-export.csv") == 1
    assert walk.saying("Importing") == 0, "no message is left saying it is importing"
    walk.shot("csv-imported")
    answer.get_by_role("button", name="Undo import").click()
    walk.confirm("undo-confirm")  # a destructive button asks first
    expect(answer).to_contain_text("undone by")
    expect(answer.get_by_role("button", name="Undo import")).to_have_count(0)  # spent, gone
    assert walk.saying("undone by") == 1 and walk.saying("Imported kasse-export.csv") == 0
    walk.shot("csv-undone")

    walk.say("/ledger variance Lager")
    seeded = walk.latest("Variance of Lager")
    expect(seeded).to_contain_text("Total variance")
    expect(seeded).to_contain_text("Mozzarella: used")
    walk.shot("variance-last-week")
    # The five largest by money; every line one click away (not a CLI command to run).
    expect(seeded).not_to_contain_text("stockpot ledger variance")
    seeded.get_by_role("button", name="Show all").click()
    expect(page.get_by_test_id("modal-title")).to_have_text("Variance")
    assert modal.inner_text().count(": used ") > 5
    walk.shot("variance-show-all")
    page.get_by_test_id("modal-close").click()
    expect(modal).to_be_hidden()

    walk.say("/stock count Lager")
    expect(modal).to_contain_text("Count Lager")
    modal.locator(".input-block", has_text="Mozzarella (kg)").locator("input").fill("20.5")
    modal.locator(".input-block", has_text="Cola 0,33l (pcs)").locator("input").fill("96")
    walk.shot("count-sheet")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_be_hidden()
    counted = walk.latest("counted in Lager")
    expect(counted).to_contain_text("Mozzarella: 20.5 kg")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    report = walk.latest(f"→ {today}")  # the period the count just closed
    expect(report).to_contain_text("Variance of Lager")
    expect(report).to_contain_text("Mozzarella: used")
    expect(report).to_contain_text(  # a CSV location has no due time: its file is imported
        "at Filiale Mitte (transferred when its CSV file is imported) are not transferred yet"
    )
    walk.shot("counted-and-variance")
    # The sheet opened again for that day says what is counted already, and how to recount.
    walk.say("/stock count Lager")
    expect(modal).to_contain_text("Lager was already counted at the close of")
    expect(modal).to_contain_text("/stock correct")
    mozzarella = modal.locator(".input-block", has_text="Mozzarella (kg)")
    expect(mozzarella).to_contain_text("Counted already that day: 20.5 kg")
    walk.shot("count-sheet-counted-already")
    page.get_by_test_id("modal-close").click()
    expect(modal).to_be_hidden()

    # A delivery of yesterday typed without lines: the form's date starts on it, and is kept.
    yesterday = today - timedelta(days=1)
    walk.say(f"/stock receive Küche {yesterday}")
    expect(modal).to_contain_text("Receipt: Küche")
    modal.locator(".input-block", has_text="One ingredient per line").locator("textarea").fill(
        "Mozzarella=10kg"
    )
    walk.shot("receive-form-dated")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_be_hidden()
    expect(walk.latest("received in Küche")).to_contain_text(f"for {yesterday}")

    # Remove a mapping (asks first): the item is unmapped again, its days offered for rerun.
    before = walk.count(f"matching “{item}”")
    walk.say(f"/pos mappings {item}")
    mappings = walk.pinned(f"matching “{item}”", after=before)
    mappings.get_by_role("button", name="Remove").click()
    walk.confirm("remove-confirm")
    removed = walk.latest(f"{item} is no longer mapped")
    expect(
        removed.get_by_role("button", name=re.compile(r"Reprocess \d+ affected days"))
    ).to_be_visible()
    expect(mappings).not_to_contain_text("Mozzarella")  # the list is redrawn
    walk.shot("mapping-removed")

    # Pause and resume a location's automatic transfers, in the list itself.
    before = walk.count("Locations of Pizzeria Beispiel")
    walk.say("/pos locations")
    listing = walk.pinned("Locations of Pizzeria Beispiel", after=before)
    teltow = listing.locator(".section", has_text="Pizzeria Beispiel Teltow · SIDES")
    teltow_buttons = listing.locator(
        "xpath=.//div[contains(@class,'section')][contains(., 'Teltow · SIDES')]"
        "/following-sibling::div[contains(@class,'actions')][1]"
    )
    teltow_buttons.get_by_role("button", name="Pause").click()
    expect(teltow).to_contain_text("automatic transfer paused")
    expect(listing).to_contain_text("paused; setup and history are kept")
    expect(teltow_buttons.get_by_role("button", name="Pause")).to_have_count(0)
    walk.shot("paused")
    teltow_buttons.get_by_role("button", name="Resume").click()
    expect(teltow).to_contain_text("each closed day is transferred automatically")
    expect(teltow_buttons.get_by_role("button", name="Pause")).to_be_visible()
    walk.shot("resumed")

    page.get_by_test_id("home-tab").click()
    expect(page.get_by_test_id("home")).to_contain_text("Stockpot for Pizzeria Beispiel")
    walk.shot("home")

    running, _ = demo
    engine = make_engine(running.database_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(LedgerMovement)) > 0
            assert session.scalar(select(func.count()).select_from(Company)) == 1
    finally:
        engine.dispose()


def test_a_second_start_reuses_the_data(tmp_path):
    first = Demo(data_dir=tmp_path / "demo", port=0)
    first.start()
    first.stop()
    again = Demo(data_dir=tmp_path / "demo", port=0)
    again.start()
    try:
        engine = make_engine(again.database_url)
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Company)) == 1
        engine.dispose()
    finally:
        again.stop()
