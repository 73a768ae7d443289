"""Counts, receipts, waste, moves, corrections and variance on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from stockpot.core import company_clock, ledger
from stockpot.core.db import unit_of_work
from stockpot.core.errors import InvalidDocument, NotFound, ValidationFailed
from stockpot.core.jobs import schedule
from stockpot.core.lookup import company_by_name
from stockpot.core.models import (
    Connection,
    ExternalLocation,
    Ingredient,
    LedgerMovement,
    MovementType,
    Provider,
    StockKind,
    StockPosting,
)
from stockpot.core.stock.pending import untransferred_note
from stockpot.core.stock.services import (
    BelowZero,
    LineInput,
    StockRequest,
    StockResult,
    correct,
    post_stock,
)
from stockpot.core.stock.variance import variance
from stockpot.core.storage import archive_storage_unit, create_storage_unit
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.catalogs import ids, locations_added, setup_trattoria

D1, D2, D3, D4 = (date(2026, 11, day) for day in (1, 2, 3, 4))


@pytest.fixture
def trattoria(database):
    setup_trattoria(database)
    with database.session() as session:
        database.ids = ids(session)
    return database


def post(database, kind, unit, day, *lines, dry_run=False, **kwargs):
    return post_stock(
        database.factory,
        StockRequest(
            StockKind(kind),
            database.ids["company"],
            unit,
            day,
            kwargs.pop("by", "cli:chef"),
            [LineInput(*line) if isinstance(line, tuple) else line for line in lines],
            **kwargs,
        ),
        dry_run=dry_run,
    )


def espresso_day(database, day, espressos):
    line = SaleLine(
        sale_id="S", line_id="L1", pos_code="300", name="Espresso", quantity=Decimal(espressos)
    )
    run_transfer(
        database.factory, database.ids["location:Main room"], day, [line], RawInput("t", "x")
    )


def sides_location(database, name: str) -> None:
    """An active SIDES location whose sales deduct from Kitchen: its days are due at 06:00
    local time next morning (the trattoria's Main room is a CSV location)."""
    with unit_of_work(database.factory) as session:
        connection = Connection(
            company_id=database.ids["company"], provider=Provider.SIDES, name="SIDES"
        )
        session.add(connection)
        session.flush()
        session.add(
            ExternalLocation(
                company_id=database.ids["company"],
                connection=connection,
                external_id="36",
                name=name,
                timezone="Europe/Rome",
                storage_unit_id=database.ids["unit:Kitchen"],
                active=True,
            )
        )


def balance(database, unit, ingredient):
    with database.session() as session:
        rows = ledger.balances(session, company_by_name(session, "Trattoria Esempio"))
    return {(r.storage_unit, r.ingredient): r.quantity for r in rows}.get((unit, ingredient))


def movements_count(database):
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerMovement))


def set_cost(database, name, cost):
    with database.factory.begin() as session:
        session.scalars(select(Ingredient).where(Ingredient.name == name)).one().cost = cost


def test_first_count_is_the_opening_balance_and_counts_convert_units(trattoria):
    espresso_day(trattoria, D1, 100)  # 0.9 kg of beans sold before anything was counted
    assert balance(trattoria, "Kitchen", "Espresso beans") == Decimal("-0.9")
    result = post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(2500), "g"))
    assert result.lines[0].quantity == Decimal("2.5")
    assert result.lines[0].adjustment == Decimal("3.4")
    assert balance(trattoria, "Kitchen", "Espresso beans") == Decimal("2.5")


def test_variance_reconciles_with_the_closing_count_adjustment(trattoria):
    set_cost(trattoria, "Espresso beans", Decimal("18.50"))
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)), ("Flour", Decimal(10)))
    post(trattoria, "receipt", "Kitchen", D2, ("Espresso beans", Decimal(2), "kg", Decimal(20)))
    espresso_day(trattoria, D2, 200)  # 1.8 kg
    post(trattoria, "waste", "Kitchen", D3, ("Espresso beans", Decimal("0.25")), reason="spilled")
    post(trattoria, "move", "Kitchen", D3, ("Espresso beans", Decimal(1)), to_storage_unit="Bar")
    espresso_day(trattoria, D3, 100)  # 0.9 kg
    closing = post(
        trattoria, "count", "Kitchen", D4, ("Espresso beans", Decimal("3.7")), ("Flour", 9)
    )
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    lines = {line.ingredient: line for line in found.lines}
    beans = lines["Espresso beans"]
    assert (beans.opening, beans.receipts, beans.moves, beans.waste, beans.closing) == (
        Decimal(5),
        Decimal(2),
        Decimal(-1),
        Decimal("0.25"),
        Decimal("3.7"),
    )
    assert beans.actual == Decimal("2.05") and beans.theoretical == Decimal("2.7")
    adjustments = {line.ingredient: line.adjustment for line in closing.lines}
    for name, line in lines.items():
        assert line.actual - line.theoretical == -adjustments[name]
    assert beans.variance == Decimal("-0.65")
    assert beans.value == Decimal("-13.00")  # the receipt's 20/kg became the cost
    assert beans.percent == Decimal("-24.1")
    assert lines["Flour"].value is None and found.uncosted == ["Flour"]
    assert found.total_value == Decimal("-13.00")


def test_a_variance_names_the_days_whose_sales_are_not_transferred_yet(trattoria):
    """A count tonight, before tonight's sales are transferred: today reads "sold 0", so
    the variance says which days theoretical usage cannot count yet."""
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    espresso_day(trattoria, D2, 100)
    post(trattoria, "count", "Kitchen", D3, ("Espresso beans", Decimal(4)))
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    [pending] = found.untransferred
    assert (pending.location, pending.days) == ("Main room", (D3,))
    assert pending.due is None  # a CSV location's day is transferred when its file is imported
    tonight = datetime(2026, 11, 3, 21, tzinfo=UTC)
    assert untransferred_note(found.untransferred, "`/ledger variance Kitchen`", tonight) == (
        "Sales of Tue 2026-11-03 at Main room (transferred when its CSV file is imported) are not "
        "transferred yet: theoretical usage counts none of them; run `/ledger variance Kitchen` "
        "again after the transfer."
    )
    espresso_day(trattoria, D3, 0)
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    assert found.untransferred == [] and found.note("again") is None


def test_a_pos_locations_untransferred_days_say_when_they_are_due(trattoria):
    """A POS location's days are transferred at a due time: the note says it, next to the
    CSV location whose file is not imported yet."""
    sides_location(trattoria, "Terrace")
    locations_added(trattoria, D1)
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    post(trattoria, "count", "Kitchen", D3, ("Espresso beans", Decimal(4)))
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    csv, pos = found.untransferred
    assert (csv.location, csv.days, csv.due) == ("Main room", (D2, D3), None)
    assert (pos.location, pos.days) == ("Terrace", (D2, D3))
    assert pos.due == datetime(2026, 11, 4, 5, tzinfo=UTC)  # 06:00 in Rome, next morning
    assert pos.to_json()["due"] == "2026-11-04T05:00:00+00:00" and csv.to_json()["due"] is None
    tonight = datetime(2026, 11, 3, 21, tzinfo=UTC)
    assert untransferred_note(found.untransferred, "`/ledger variance Kitchen`", tonight) == (
        "Sales of Mon 2026-11-02 and Tue 2026-11-03 at Main room (transferred when its CSV file is "
        "imported) and of Mon 2026-11-02 and Tue 2026-11-03 at Terrace (due 2026-11-04 06:00 CET) are "
        "not transferred yet: theoretical usage counts none of them; run "
        "`/ledger variance Kitchen` again after the transfer."
    )


def test_a_long_untransferred_period_names_a_few_days(trattoria):
    sides_location(trattoria, "Terrace")
    locations_added(trattoria, D1)
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    espresso_day(trattoria, D3, 10)
    post(trattoria, "count", "Kitchen", date(2026, 11, 12), ("Espresso beans", Decimal(4)))
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    assert found.note("it").startswith(  # Terrace's due time has passed: not said
        "Sales of Mon 2026-11-02, Wed 2026-11-04 and 8 more days at Main room (transferred when its CSV "
        "file is imported) and of Mon 2026-11-02, Tue 2026-11-03 and 9 more days at Terrace are not "
        "transferred yet"
    )


def test_a_location_added_within_the_period_names_only_its_days_since(trattoria):
    """A location added last week named every day of the period before it as "not
    transferred": its days count from its activation (a POS location synced long before),
    from when it was added (a CSV profile), or from its first transferred day when that is
    earlier (a migration reaches back)."""
    sides_location(trattoria, "Terrace")
    locations_added(trattoria, date(2026, 10, 1))
    with unit_of_work(trattoria.factory) as session:
        terrace = session.scalars(select(ExternalLocation).filter_by(name="Terrace")).one()
        schedule.activate(terrace, datetime(2026, 11, 4, 9, tzinfo=UTC))  # 10:00 in Rome
        terrace_id = terrace.id
        room = session.get_one(ExternalLocation, trattoria.ids["location:Main room"])
        room.created_at = datetime(2026, 11, 3, 11, tzinfo=UTC)
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    post(trattoria, "count", "Kitchen", D4, ("Espresso beans", Decimal(4)))

    def pending():
        with trattoria.session() as session:
            found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
        return [(item.location, item.days) for item in found.untransferred]

    assert pending() == [("Main room", (D3, D4)), ("Terrace", (D4,))]
    line = SaleLine(sale_id="S", line_id="L1", pos_code="9", name="Soup", quantity=Decimal(1))
    run_transfer(trattoria.factory, terrace_id, D2, [line], RawInput("t", "migrated"))
    assert pending() == [("Main room", (D3, D4)), ("Terrace", (D3, D4))]


def test_a_pause_and_resume_before_the_first_transfer_keeps_the_days_since_activation(
    trattoria,
):
    """Resuming moves the first day automatic transfers cover to the next due day; it moved
    the variance note's start too, so a location paused and resumed before its first
    transfer no longer named its paused days, whose sales are still missing (the resume
    offers them for catching up). The note's days start at the activation."""
    sides_location(trattoria, "Terrace")
    locations_added(trattoria, date(2026, 10, 1))
    with unit_of_work(trattoria.factory) as session:
        terrace = session.scalars(select(ExternalLocation).filter_by(name="Terrace")).one()
        schedule.activate(terrace, datetime(2026, 11, 1, 9, tzinfo=UTC))  # covers D1 on
        schedule.pause(terrace, datetime(2026, 11, 1, 12, tzinfo=UTC))
        missed = schedule.resume(session, terrace, datetime(2026, 11, 4, 9, tzinfo=UTC))
        assert terrace.automatic_since == D4 and missed.days == [D1, D2, D3]
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    post(trattoria, "count", "Kitchen", D4, ("Espresso beans", Decimal(4)))
    with trattoria.session() as session:
        found = variance(session, company_by_name(session, "Trattoria Esempio"), "Kitchen")
    terrace_days = {item.location: item.days for item in found.untransferred}["Terrace"]
    assert terrace_days == (D2, D3, D4)


def test_postings_dated_after_today_are_refused_naming_both_days(trattoria):
    """Waste and counts were accepted up to a year ahead, and a count dated ahead fixed the
    balance at that day, absorbing every posting up to it; a receipt dated ahead showed in
    today's balance but in no report as of today. Each records what has happened: a day
    after the business day of a unit it posts into is refused with that day (a move's
    destination too); today is posted."""
    with trattoria.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        today = company_clock.unit_today(session, company, trattoria.ids["unit:Kitchen"])
    ahead = today + timedelta(days=2)
    postings = (
        ("waste", "waste", {"reason": "spilled"}),
        ("count", "a count", {}),
        ("receipt", "a receipt", {}),
        ("move", "a move", {"to_storage_unit": "Bar"}),
    )
    for kind, what, extra in postings:
        with pytest.raises(InvalidDocument) as refused:
            post(trattoria, kind, "Kitchen", ahead, ("Flour", Decimal(1)), **extra)
        assert [str(p) for p in refused.value.problems] == [
            f"date: {ahead} is after today's business day ({today}): {what} records what has "
            f"happened; date it {today} or earlier"
        ]
    assert movements_count(trattoria) == 0
    post(trattoria, "receipt", "Kitchen", today, ("Flour", Decimal(2)))
    post(trattoria, "waste", "Kitchen", today, ("Flour", Decimal(1)), reason="spilled")
    post(trattoria, "move", "Kitchen", today, ("Flour", Decimal(1)), to_storage_unit="Bar")
    assert movements_count(trattoria) == 4


def test_a_count_dated_years_ahead_is_refused_once_under_its_date(trattoria):
    """A date past the dates Stockpot works with is after today too: the form showed both
    refusals of the one date under its picker, one saying to check the year and one to date
    it today or earlier."""
    ahead = date.today() + timedelta(days=800)  # noqa: DTZ011 - years past any clock's today
    with pytest.raises(InvalidDocument) as refused:
        post(trattoria, "count", "Kitchen", ahead, ("Flour", Decimal(1)))
    dated = [p for p in refused.value.problems if p.place == "date"]
    assert len(dated) == 1 and "check the year" in str(dated[0])


def test_a_units_today_is_the_latest_of_the_company_date_and_its_locations_business_days(
    trattoria,
):
    """A location east of the company's clock is on the next day already: its sales' unit
    may be counted on that day. One west of it, or with a late day start, never moves the
    company's date back (the default of every posting)."""
    now = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)  # 13:30 in Rome, the company's clock
    unit_id = trattoria.ids["unit:Kitchen"]
    sides_location(trattoria, "Terrace")
    with unit_of_work(trattoria.factory) as session:
        company = company_by_name(session, "Trattoria Esempio")
        assert company_clock.today(session, company, now) == date(2026, 12, 5)
        terrace = session.scalars(select(ExternalLocation).filter_by(name="Terrace")).one()
        terrace.timezone = "Pacific/Kiritimati"  # UTC+14: 02:30 on the 6th
        assert company_clock.unit_today(session, company, unit_id, now) == date(2026, 12, 6)
        terrace.timezone, terrace.business_day_start = "Pacific/Pago_Pago", time(5, 0)  # 01:30
        assert company_clock.unit_today(session, company, unit_id, now) == date(2026, 12, 5)


def late_service(database) -> None:
    """Main room (Kitchen's sales) in Berlin, its business day starting at 05:00."""
    with unit_of_work(database.factory) as session:
        room = session.scalars(select(ExternalLocation).filter_by(name="Main room")).one()
        room.timezone, room.business_day_start = "Europe/Berlin", time(5, 0)


def test_a_postings_default_date_is_its_units_business_day_before_the_day_start(trattoria):
    """At 01:58 in Berlin, Main room's business day is still the 5th (it starts at 05:00):
    a count of Kitchen after a late service is dated the 5th, not the calendar's 6th, which
    was ahead of the 6th's sales and absorbed them into its variance. Bar takes no location's
    sales and is on the company's date; a move between the two is dated the earlier day.
    The default is never refused."""
    late_service(trattoria)
    kitchen, bar = trattoria.ids["unit:Kitchen"], trattoria.ids["unit:Bar"]
    night = datetime(2026, 12, 6, 1, 58, tzinfo=ZoneInfo("Europe/Berlin"))
    with trattoria.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        assert company_clock.today(session, company, night) == date(2026, 12, 6)
        day = company_clock.posting_day(session, company, kitchen, now=night)
        assert day == date(2026, 12, 5)
        assert company_clock.not_yet(session, company, kitchen, day, "a count", now=night) is None
        assert company_clock.posting_day(session, company, bar, now=night) == date(2026, 12, 6)
        assert company_clock.posting_day(session, company, bar, kitchen, now=night) == day


def test_a_postings_default_date_is_the_calendar_date_after_the_day_start(trattoria):
    late_service(trattoria)
    morning = datetime(2026, 12, 6, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with trattoria.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        for unit in ("Kitchen", "Bar"):
            unit_id = trattoria.ids[f"unit:{unit}"]
            assert company_clock.posting_day(session, company, unit_id, now=morning) == date(
                2026, 12, 6
            )


def test_a_rerun_before_a_count_changes_the_variance_not_the_balance_after(trattoria):
    post(trattoria, "count", "Kitchen", D1, ("Espresso beans", Decimal(5)))
    espresso_day(trattoria, D2, 100)
    post(trattoria, "count", "Kitchen", D3, ("Espresso beans", Decimal(4)))
    espresso_day(trattoria, D4, 10)
    before = balance(trattoria, "Kitchen", "Espresso beans")
    assert before == Decimal("3.91")
    espresso_day(trattoria, D2, 50)  # the POS corrected day 2: half as many espressos
    assert balance(trattoria, "Kitchen", "Espresso beans") == before
    with trattoria.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        period = variance(session, company, "Kitchen", "2026-11-01..2026-11-03")
    beans = period.lines[0]
    assert (beans.theoretical, beans.actual) == (Decimal("0.45"), Decimal(1))


def test_a_move_posts_two_legs_that_balance(trattoria):
    result = post(
        trattoria, "move", "Kitchen", D1, ("House red", Decimal("1.5"), "l"), to_storage_unit="Bar"
    )
    assert result.lines[0].quantity == Decimal(2)  # bottles of 0.75 l
    assert balance(trattoria, "Kitchen", "House red") == Decimal(-2)
    assert balance(trattoria, "Bar", "House red") == Decimal(2)


def test_bad_lines_are_all_reported_with_their_line_and_nothing_is_posted(trattoria):
    lines = [
        LineInput("Espreso beans", Decimal(1), line=2),
        LineInput("Flour", Decimal(-1), line=3),
        LineInput("Basil", Decimal(1), "l", line=4),
        LineInput("Water", Decimal(1), line=5),
    ]
    with pytest.raises(InvalidDocument) as error:
        post(trattoria, "receipt", "Kitchen", D1, *lines, source="delivery.csv")
    message = str(error.value)
    assert "delivery.csv: 3 errors, nothing was imported" in message
    assert (
        "line 2: ingredient: unknown ingredient 'Espreso beans'; did you mean 'Espresso beans'"
        in message
    )
    assert "line 3: quantity: the quantity must be more than 0" in message
    assert "line 4: unit: unit 'l' cannot be converted to 'g'" in message
    assert movements_count(trattoria) == 0
    with pytest.raises(InvalidDocument, match="no storage unit 'Cellar'"):
        post(trattoria, "waste", "Cellar", D1, ("Flour", Decimal(1)))


def test_a_dry_run_previews_and_posts_nothing(trattoria):
    espresso_day(trattoria, D1, 100)
    before = movements_count(trattoria)
    result = post(trattoria, "count", "Kitchen", D1, ("Espresso beans", 1), dry_run=True)
    assert result.dry_run and result.lines[0].adjustment == Decimal("1.9")
    assert movements_count(trattoria) == before


def test_a_correction_reverses_and_a_recount_is_then_allowed(trattoria):
    first = post(trattoria, "count", "Kitchen", D1, ("Flour", Decimal(10)))
    with pytest.raises(InvalidDocument, match="already counted in 'Kitchen' on 2026-11-01"):
        post(trattoria, "count", "Kitchen", D1, ("Flour", Decimal(12)))
    elsewhere = trattoria.ids["company"] + 1000
    with pytest.raises(NotFound, match=f"no stock posting {first.posting_id}"):
        correct(trattoria.factory, elsewhere, first.posting_id, "slack:U9")
    assert balance(trattoria, "Kitchen", "Flour") == Decimal(10), "another company's: untouched"
    fixed = correct(trattoria.factory, trattoria.ids["company"], first.posting_id, "slack:U1")
    assert fixed.reverses_id == first.posting_id and fixed.posted_by == "slack:U1"
    assert balance(trattoria, "Kitchen", "Flour") == 0
    with pytest.raises(ValidationFailed, match="already corrected"):
        correct(trattoria.factory, trattoria.ids["company"], first.posting_id, "slack:U1")
    with pytest.raises(ValidationFailed, match="is itself a correction"):
        correct(trattoria.factory, trattoria.ids["company"], fixed.posting_id, "slack:U1")
    post(trattoria, "count", "Kitchen", D1, ("Flour", Decimal(12)))
    assert balance(trattoria, "Kitchen", "Flour") == Decimal(12)
    with trattoria.session() as session:
        who = set(session.scalars(select(StockPosting.posted_by)))
        types = set(session.scalars(select(LedgerMovement.type)))
    assert who == {"cli:chef", "slack:U1"}
    assert types == {MovementType.ADJUSTMENT}


def test_a_receipt_cost_per_unit_becomes_the_cost_per_base_unit(trattoria):
    post(trattoria, "receipt", "Kitchen", D1, ("Basil", Decimal("0.2"), "kg", Decimal(15)))
    with trattoria.session() as session:
        basil = session.scalars(select(Ingredient).where(Ingredient.name == "Basil")).one()
    assert basil.cost == Decimal("0.015")  # 15 per kg is 0.015 per g, the base unit


def test_a_quantity_or_cost_is_checked_again_in_the_base_unit(trattoria):
    """999999999 kg of basil (kept in g) is 10¹² g: SQLite's integers overflowed (a traceback
    from `stockpot stock receive`) and PostgreSQL stored it beyond every other quantity's
    range; 0.000000001 mg of flour (kept in kg) rounded to a receipt of 0 kg; 999999999 per g
    of flour is 10¹² per kg. Each is refused on its line, in what it became, nothing posted."""
    lines = [
        LineInput("Basil", Decimal(999999999), "kg", line=2),
        LineInput("Flour", Decimal("0.000000001"), "mg", line=3),
        LineInput("Espresso beans", Decimal(5), "g", Decimal(999999999), line=4),
        LineInput("Water", Decimal("0.0000001"), "ml", line=5),
    ]
    with pytest.raises(InvalidDocument) as error:
        post(trattoria, "receipt", "Kitchen", D1, *lines, source="delivery.csv")
    message = str(error.value)
    assert "delivery.csv: 4 errors, nothing was imported" in message
    assert (
        "line 2: quantity: 999,999,999 kg is 999,999,999,000 g of Basil, too large; quantities"
        in message
    )
    assert (
        "line 3: quantity: 0.000000001 mg is less than the smallest quantity of Flour "
        "(0.000000001 kg, kept to 9 decimal places); leave it out" in message
    )
    assert (  # the cost's own range (money per the base unit), not the quantities'
        "line 4: unit_cost: 999,999,999 EUR per g is 999,999,999,000 EUR per kg of Espresso "
        "beans, too large; a unit cost must lie between 0 and 999,999,999.999999999 EUR per kg, "
        "with at most 9 decimal places" in message
    )
    assert "line 5: quantity: 0.0000001 ml is less than the smallest quantity of Water" in message
    assert movements_count(trattoria) == 0
    with pytest.raises(InvalidDocument, match="999,999,999 kg is 999,999,999,000 g of Basil"):
        post(trattoria, "count", "Kitchen", D1, ("Basil", Decimal(999999999), "kg"))
    counted = post(trattoria, "count", "Kitchen", D1, ("Flour", Decimal("0.000000001"), "mg"))
    assert counted.lines[0].quantity == 0, "a count may count nothing: it says none is left"


def test_a_storage_unit_is_found_case_aside_and_a_wrong_one_gets_the_closest(trattoria):
    """`stockpot ledger balances --storage kitchen` found the Kitchen, `stockpot stock receive
    --storage-unit kitchen` did not ("no storage unit 'kitchen' (known: …)"): postings now
    find units by the one rule (`lookup.storage_unit_by_name`), with its "did you mean"."""
    result = post(trattoria, "receipt", "kitchen", D1, ("Flour", Decimal(1)))
    assert result.storage_unit == "Kitchen"
    with pytest.raises(InvalidDocument, match=r"no storage unit .Kitchn.; did you mean Kitchen\?"):
        post(trattoria, "move", "Kitchen", D1, ("Flour", Decimal(1)), to_storage_unit="Kitchn")


def test_balances_beyond_sqlites_integers_are_summed_exactly(trattoria):
    """A quantity is an integer count of 10⁻⁹ units on SQLite, whose own SUM raised "integer
    overflow" past 9.2 billion base units: ten receipts of 999,999,999 g of basil made every
    balance of it fail. The sum is exact on both databases."""
    for _ in range(10):
        post(trattoria, "receipt", "Kitchen", D1, ("Basil", Decimal(999999999), "g"))
    assert balance(trattoria, "Kitchen", "Basil") == Decimal(9999999990)
    before = movements_count(trattoria)
    # Counting 1 g would post an adjustment no movement can hold (nor SQLite store): refused
    # by name, as every quantity beyond the range is, instead of an OverflowError.
    with pytest.raises(ValidationFailed) as refused:
        post(trattoria, "count", "Kitchen", D2, ("Basil", Decimal(1), "g"))
    assert str(refused.value).startswith(
        "counting 1 g of Basil against its balance of 9,999,999,990 g would post an adjustment "
        "of -9,999,999,989 g, more than a movement can hold (quantities must lie between"
    )
    assert "/stock correct N" in str(refused.value)
    assert movements_count(trattoria) == before


def test_waste_or_a_move_beyond_the_stock_is_posted_and_names_what_goes_below_zero(trattoria):
    """Waste larger than the stock was posted without a word. It is still posted (the ledger
    may go negative; a count sets it right), and the result names each balance it took below
    zero, in its unit: a move's source the same way, never its destination."""
    post(trattoria, "count", "Kitchen", D1, ("Basil", Decimal(300)), ("Flour", Decimal(10)))
    wasted = post(trattoria, "waste", "Kitchen", D2, ("Basil", Decimal("0.35"), "kg"), ("Flour", 1))
    assert wasted.posting_id is not None and balance(trattoria, "Kitchen", "Basil") == -50
    assert wasted.below_zero == [BelowZero("Kitchen", "Basil", "g", Decimal(-50))]
    assert StockResult.from_json(wasted.to_json()).below_zero == wasted.below_zero
    moved = post(trattoria, "move", "Kitchen", D2, ("Flour", Decimal(12)), to_storage_unit="Bar")
    assert moved.below_zero == [BelowZero("Kitchen", "Flour", "kg", Decimal(-3))]
    assert balance(trattoria, "Bar", "Flour") == 12
    assert post(trattoria, "waste", "Bar", D2, ("Flour", Decimal(2))).below_zero == []
    preview = post(trattoria, "waste", "Bar", D2, ("Flour", Decimal(11)), dry_run=True)
    assert preview.below_zero == [BelowZero("Bar", "Flour", "kg", Decimal(-1))]


def test_a_posting_absorbed_by_a_later_count_takes_nothing_below_zero(trattoria):
    """Waste dated before a later count is absorbed by it: the balance stays as counted, so
    nothing went below zero, whatever the stock at the waste's date."""
    post(trattoria, "count", "Kitchen", D3, ("Basil", Decimal(100)))
    late = post(trattoria, "waste", "Kitchen", D2, ("Basil", Decimal(500)))
    assert late.absorbed and late.below_zero == []
    assert balance(trattoria, "Kitchen", "Basil") == 100


def test_a_correction_that_takes_stock_below_zero_says_so_by_the_same_rule(trattoria):
    """Reversing a receipt whose goods are used already leaves the balance below zero: the
    correction is posted and says so, as waste would."""
    received = post(trattoria, "receipt", "Kitchen", D1, ("Flour", Decimal(1)))
    post(trattoria, "waste", "Kitchen", D1, ("Flour", Decimal("0.6")))
    fixed = correct(trattoria.factory, trattoria.ids["company"], received.posting_id, "cli:chef")
    assert fixed.below_zero == [BelowZero("Kitchen", "Flour", "kg", Decimal("-0.6"))]


def test_a_posting_into_an_archived_unit_cannot_be_corrected_until_it_is_unarchived(trattoria):
    """`/stock correct` posted the reversal of a move into the Cellar after the Cellar was
    archived, where every other posting is refused. It is refused the same way, saying how to
    go on, and posts nothing; once the Cellar is back, the correction goes through."""
    company = trattoria.ids["company"]
    with unit_of_work(trattoria.factory) as session:
        create_storage_unit(session, company, "Cellar", "Via Roma 1, Milano")
    moved = post(trattoria, "move", "Kitchen", D1, ("Flour", Decimal(2)), to_storage_unit="Cellar")
    with unit_of_work(trattoria.factory) as session:
        archive_storage_unit(session, company, "Cellar")
    before = movements_count(trattoria)
    with pytest.raises(ValidationFailed) as refused:
        correct(trattoria.factory, company, moved.posting_id, "cli:chef")
    assert str(refused.value) == (
        f"posting {moved.posting_id} cannot be corrected: storage unit 'Cellar' is "
        "archived: nothing can be posted to it; bring it back with `/pos storage unarchive "
        "Cellar` first, "
        f"then `/stock correct {moved.posting_id}` again"
    )
    assert movements_count(trattoria) == before
    with unit_of_work(trattoria.factory) as session:
        archive_storage_unit(session, company, "Cellar", archived=False)
    fixed = correct(trattoria.factory, company, moved.posting_id, "cli:chef")
    assert fixed.reverses_id == moved.posting_id
    assert balance(trattoria, "Cellar", "Flour") == 0


def test_a_refused_quantity_is_shown_as_a_number_not_in_scientific_notation(trattoria):
    """Scientific notation is read as a number (``-1e3``), and was shown back as
    ``Decimal``'s ``str``: "got -1E+3", the one place a quantity read ``E+``."""
    with pytest.raises(InvalidDocument) as waste:
        post(trattoria, "waste", "Kitchen", D1, ("Flour", Decimal("-1e3"), "g", None, 1))
    with pytest.raises(InvalidDocument) as counted:
        post(trattoria, "count", "Kitchen", D1, ("Flour", Decimal("-1E+6"), "g", None, 1))
    with pytest.raises(InvalidDocument) as received:
        post(trattoria, "receipt", "Kitchen", D1, ("Flour", Decimal(1), "kg", Decimal("-1e3"), 1))
    assert "the quantity must be more than 0, got -1,000" in str(waste.value)
    assert "a counted quantity cannot be negative, got -1,000,000" in str(counted.value)
    assert "a unit cost cannot be negative, got -1,000" in str(received.value)
    assert "E+" not in str(waste.value) + str(counted.value) + str(received.value)
