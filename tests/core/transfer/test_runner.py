"""The transfer runner on a real database: posting, reruns, failures, tracing."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select, update

from stockpot.core import ledger
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.errors import ValidationFailed
from stockpot.core.lookup import company_by_name
from stockpot.core.mapping import import_mappings
from stockpot.core.models import (
    ExternalLocation,
    Ingredient,
    IngredientMeasure,
    LedgerMovement,
    PosItem,
    PosMapping,
    RawPayload,
    Recipe,
    RecipeLine,
    RunKind,
    RunOutcome,
    RunStatus,
    StorageUnit,
    TransferDay,
    TransferRun,
    TransferRunLines,
    TransferSnapshot,
)
from stockpot.core.transfer import runner, trace
from stockpot.core.transfer.catalog_snapshot import CATALOGS, catalog_token, load_snapshot
from stockpot.core.transfer.engine import run_engine
from stockpot.core.transfer.lines import LineKind, RawInput, SaleLine
from stockpot.core.transfer.live import run_dispositions
from stockpot.core.transfer.runner import TransferFailed, run_transfer, transfer_in_session
from stockpot.core.transfer.snapshot import IngredientTarget, Snapshot
from stockpot.core.units import Unit
from tests.catalogs import ids, setup_trattoria

DAY = date(2026, 11, 27)


def sold(
    code: str, quantity: str | int, sale: str = "S1", line: str | None = None, **kw
) -> SaleLine:
    sold.counter += 1  # type: ignore[attr-defined]
    return SaleLine(
        sale_id=sale,
        line_id=line or f"L{sold.counter}",  # type: ignore[attr-defined]
        pos_code=code,
        name=kw.pop("name", f"item {code}"),
        quantity=Decimal(str(quantity)),
        **kw,
    )


sold.counter = 0  # type: ignore[attr-defined]

SALES = [
    sold("101", 2, sale="S1"),  # Margherita
    sold("230", 3, sale="S1"),  # glass of red
    sold("999", 1, sale="S1"),  # tip, ignored
    sold("555", 2, sale="S2", name="Cannoli"),  # unmapped
    sold("300", 2, sale="S2", voided=True),
    sold("300", 5, sale="S3"),  # espresso
    sold("410", 3, sale="S3"),  # tiramisu
]


@pytest.fixture
def trattoria(database):
    setup_trattoria(database)
    with database.session() as session:
        database.ids = ids(session)
    return database


def transfer(database, lines, day=DAY, **kwargs):
    return run_transfer(
        database.factory,
        database.ids["location:Main room"],
        day,
        lines,
        RawInput("test", "raw body"),
        **kwargs,
    )


def balances(database) -> dict[tuple[str, str], Decimal]:
    with database.session() as session:
        rows = ledger.balances(session, company_by_name(session, "Trattoria Esempio"))
    return {(row.storage_unit, row.ingredient): row.quantity for row in rows}


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def remap_espresso(database, factor: str) -> None:
    import_mappings(
        database.factory,
        "company: Trattoria Esempio\nconnection: csv:Till export\nmappings:\n"
        f'  - {{pos_code: "300", ingredient: Espresso beans, quantity: {factor}}}\n',
        source="remap.yaml",
    )


EXPECTED = {
    ("Bar", "House red"): Decimal("-0.6"),  # 3 × 15 cl of a 0.75 l bottle
    ("Kitchen", "Basil"): Decimal("-6"),
    ("Kitchen", "Espresso beans"): Decimal("-0.06"),  # 5 × 9 g + 3 × 5 g
    ("Kitchen", "Flour"): Decimal("-0.36"),
    ("Kitchen", "Mozzarella"): Decimal("-0.260416667"),  # 2 × 125 g / 0.96
    ("Kitchen", "Water"): Decimal("-0.22"),
    ("Pastry", "Eggs"): Decimal("-1.666666667"),  # 3 × (100 g / 3 portions), an egg is 60 g
    ("Pastry", "Flour"): Decimal("-0.1"),
}


def test_a_day_is_posted_with_its_raw_sales_log_and_new_items(trattoria):
    report = transfer(trattoria, SALES, triggered_by="tester")
    assert report.outcome is RunOutcome.POSTED and report.generation == 1
    assert balances(trattoria) == EXPECTED
    assert report.stats["skipped"] == {"voided_line": 1}
    assert report.unmapped == [
        {"key": "555", "pos_code": "555", "name": "Cannoli", "quantity": "2", "lines": 1}
    ]
    with trattoria.session() as session:
        run = session.get_one(TransferRun, report.run_id)
        assert (run.status, run.kind.value, run.triggered_by) == (
            RunStatus.SUCCEEDED,
            "manual",
            "tester",
        )
        assert run.finished_at is not None and run.finished_at >= run.started_at
        stored = run_dispositions(session, run.id)
        assert [entry.line for entry in stored] == sorted(
            SALES, key=lambda line: (line.sale_id, line.line_id)
        )
        assert [entry.disposition for entry in stored] == [
            "mapped",
            "mapped",
            "ignored",
            "unmapped",
            "skipped:voided_line",
            "mapped",
            "mapped",
        ]
        assert session.get_one(RawPayload, run.id).body == "raw body"
        cannoli = session.scalar(select(PosItem).where(PosItem.key == "555"))
        assert cannoli.name == "Cannoli" and cannoli.first_seen_in_sales_at is not None
        assert cannoli.mapping is None


def test_a_days_movements_are_stamped_with_one_time_of_the_transfer(trattoria):
    """The movements COPY sends no time (migration 0022): PostgreSQL stamps the transaction's
    time, SQLite's insert the model's default. Either way every movement has an aware time
    between the run's start and its end."""
    report = transfer(trattoria, SALES)
    with trattoria.session() as session:
        run = session.get_one(TransferRun, report.run_id)
        stamps = session.scalars(
            select(LedgerMovement.created_at).where(LedgerMovement.run_id == run.id)
        ).all()
    assert len(stamps) == len(EXPECTED)
    assert all(stamp.utcoffset() is not None for stamp in stamps)
    slack = timedelta(seconds=1)  # the database's clock and ours, read apart
    assert all(run.started_at - slack <= stamp <= run.finished_at + slack for stamp in stamps)


def test_an_identical_rerun_is_unchanged_and_posts_nothing(trattoria):
    first = transfer(trattoria, SALES)
    movements = count(trattoria, LedgerMovement)
    again = transfer(trattoria, list(reversed(SALES)))
    assert again.outcome is RunOutcome.UNCHANGED and again.generation is None
    assert again.stats["unchanged_from_run"] == first.run_id
    assert count(trattoria, LedgerMovement) == movements
    assert count(trattoria, TransferRunLines) == 1
    assert balances(trattoria) == EXPECTED


def test_a_rerun_after_a_mapping_change_reverses_and_reposts_in_one_step(trattoria):
    first = transfer(trattoria, SALES)
    first_movements = count(trattoria, LedgerMovement)
    remap_espresso(trattoria, "0.018")
    second = transfer(trattoria, SALES)
    assert second.outcome is RunOutcome.POSTED and second.generation == 2
    assert second.superseded_run_id == first.run_id
    expected = dict(EXPECTED)
    expected[("Kitchen", "Espresso beans")] = Decimal("-0.105")  # 5 × 18 g + 3 × 5 g
    assert balances(trattoria) == expected
    with trattoria.session() as session:
        old = session.get_one(TransferRun, first.run_id)
        assert old.status is RunStatus.SUPERSEDED and old.superseded_by_id == second.run_id
        reversals = session.scalars(
            select(LedgerMovement).where(
                LedgerMovement.run_id == second.run_id, LedgerMovement.reverses_id.is_not(None)
            )
        ).all()
        assert len(reversals) == first_movements
        for reversal in reversals:
            original = session.get_one(LedgerMovement, reversal.reverses_id)
            assert original.run_id == first.run_id
            assert reversal.quantity == -original.quantity
            assert (reversal.storage_unit_id, reversal.ingredient_id, reversal.type) == (
                original.storage_unit_id,
                original.ingredient_id,
                original.type,
            )
        day = session.get_one(TransferDay, (trattoria.ids["location:Main room"], DAY))
        assert (day.generation, day.live_run_id) == (2, second.run_id)


def test_many_reruns_with_edits_converge_on_one_run_with_current_mappings(trattoria):
    rng = random.Random(20261127)
    days = [date(2026, 11, d) for d in (24, 25, 26, 27)]
    sales = {
        day: [
            sold(
                rng.choice(["101", "230", "231", "300", "410", "555", "999"]),
                rng.randint(-1, 4),
                sale=f"S{i}",
            )
            for i in range(12)
        ]
        for day in days
    }
    for _ in range(15):
        if rng.random() < 0.4:
            remap_espresso(trattoria, rng.choice(["0.007", "0.009", "0.018"]))
        day = rng.choice(days)
        transfer(trattoria, sales[day][: rng.randint(6, 12)], day)
    for day in days:
        transfer(trattoria, sales[day], day)
    expected: dict = {}
    with trattoria.session() as session:
        location = session.get_one(ExternalLocation, trattoria.ids["location:Main room"])
        units = {v: k[5:] for k, v in trattoria.ids.items() if k.startswith("unit:")}
        ingredients = {v: k[11:] for k, v in trattoria.ids.items() if k.startswith("ingredient:")}
        for day in days:
            snapshot = load_snapshot(
                session,
                location.company_id,
                location.connection_id,
                (line.key for line in sales[day]),
            )
            for (unit, ingredient), quantity in run_engine(
                sales[day], snapshot, location.storage_unit_id
            ).deductions.items():
                key = (units[unit], ingredients[ingredient])
                expected[key] = expected.get(key, Fraction(0)) - quantity
        # every day's movements, over all its runs, add up to its live run's movements
        for day in days:
            live = session.scalar(
                select(TransferDay.live_run_id).where(TransferDay.business_date == day)
            )
            all_runs = session.execute(
                select(
                    LedgerMovement.ingredient_id,
                    LedgerMovement.storage_unit_id,
                    func.sum(LedgerMovement.quantity),
                )
                .where(LedgerMovement.business_date == day)
                .group_by(LedgerMovement.ingredient_id, LedgerMovement.storage_unit_id)
            ).all()
            live_only = session.execute(
                select(
                    LedgerMovement.ingredient_id,
                    LedgerMovement.storage_unit_id,
                    LedgerMovement.quantity,
                ).where(LedgerMovement.run_id == live, LedgerMovement.reverses_id.is_(None))
            ).all()
            assert {(i, u): q for i, u, q in all_runs if q != 0} == {
                (i, u): q for i, u, q in live_only
            }
    got = balances(trattoria)
    assert set(got) == {key for key, value in expected.items() if value != 0}
    for key, value in got.items():
        assert abs(Fraction(value) - expected[key]) <= Fraction(len(days), 2 * 10**9), key


def test_a_dry_run_computes_and_logs_but_posts_and_registers_nothing(trattoria):
    report = transfer(trattoria, SALES, dry_run=True)
    assert report.outcome is RunOutcome.PREVIEW and report.kind.value == "dry_run"
    assert {(m.storage_unit, m.ingredient): m.quantity for m in report.movements} == EXPECTED
    assert count(trattoria, LedgerMovement) == 0
    assert count(trattoria, TransferRunLines) == 0
    assert count(trattoria, TransferDay) == 0
    with trattoria.session() as session:
        assert session.scalar(select(PosItem).where(PosItem.key == "555")) is None


def test_a_preview_of_a_day_as_posted_says_which_run_it_matches_and_posts_nothing(trattoria):
    assert transfer(trattoria, SALES, dry_run=True).matches_live_run_id is None  # nothing live
    first = transfer(trattoria, SALES)
    movements = count(trattoria, LedgerMovement)
    # A catalog edit the day does not use: the fingerprint differs, the content hash does not.
    import_catalog(
        trattoria.factory,
        "company: Trattoria Esempio\ningredients:\n  - {name: Sugar, base_unit: kg}\n",
        source="sugar.yaml",
    )
    preview = transfer(trattoria, list(reversed(SALES)), dry_run=True)
    assert preview.outcome is RunOutcome.PREVIEW and preview.matches_live_run_id == first.run_id
    # Still a preview: it shows what the day deducts.
    assert {(m.storage_unit, m.ingredient): m.quantity for m in preview.movements} == EXPECTED
    assert runner.TransferReport.from_json(preview.to_json()) == preview
    assert count(trattoria, LedgerMovement) == movements
    assert count(trattoria, TransferRunLines) == 1
    with trattoria.session() as session:
        day = session.get_one(TransferDay, (trattoria.ids["location:Main room"], DAY))
        assert (day.generation, day.live_run_id) == (1, first.run_id)
        assert session.get_one(TransferRun, first.run_id).status is RunStatus.SUCCEEDED
    remap_espresso(trattoria, "0.018")
    changed = transfer(trattoria, SALES, dry_run=True)
    assert changed.outcome is RunOutcome.PREVIEW and changed.matches_live_run_id is None


def test_a_report_recorded_before_previews_were_compared_still_reads(trattoria):
    recorded = transfer(trattoria, SALES, dry_run=True).to_json()
    del recorded["matches_live_run_id"]
    assert runner.TransferReport.from_json(recorded).matches_live_run_id is None


def test_a_location_without_storage_unit_is_refused_and_the_attempt_logged(trattoria):
    with trattoria.session() as session, session.begin():
        session.execute(update(ExternalLocation).values(storage_unit_id=None))
    with pytest.raises(ValidationFailed, match="has no storage unit linked"):
        transfer(trattoria, SALES)
    assert count(trattoria, LedgerMovement) == 0
    with trattoria.session() as session:
        run = session.scalar(select(TransferRun))
        assert run.status is RunStatus.FAILED
        assert "no storage unit linked" in run.errors[0]


def test_a_failing_rerun_posts_nothing_and_leaves_the_live_run_in_place(trattoria):
    first = transfer(trattoria, SALES)
    movements = count(trattoria, LedgerMovement)
    with trattoria.session() as session, session.begin():
        # Corrupt the catalog behind the validation's back: Pizza dough now contains Margherita.
        line = session.scalar(
            select(RecipeLine).where(RecipeLine.recipe_id == trattoria.ids["recipe:Pizza dough"])
        )
        line.ingredient_id = None
        line.unit = None
        line.sub_recipe_id = trattoria.ids["recipe:Margherita"]
    with pytest.raises(TransferFailed, match="posted nothing") as caught:
        transfer(trattoria, [*SALES, sold("101", 1, sale="S9")])
    assert count(trattoria, LedgerMovement) == movements
    assert balances(trattoria) == EXPECTED
    with trattoria.session() as session:
        assert session.get_one(TransferRun, first.run_id).status is RunStatus.SUCCEEDED
        failed = session.get_one(TransferRun, caught.value.run_id)
        assert failed.status is RunStatus.FAILED and "contains itself" in failed.errors[0]
        day = session.get_one(TransferDay, (trattoria.ids["location:Main room"], DAY))
        assert day.live_run_id == first.run_id


def test_movements_trace_back_to_the_sales_lines_that_caused_them(trattoria):
    lines = [
        sold("300", 5, sale="A", line="1"),
        sold("300", 2, sale="B", line="1", kind=LineKind.MODIFIER),
        sold("300", -1, sale="C", line="1"),
        sold("410", 2, sale="D", line="1"),
        sold("300", 4, sale="E", line="1", voided=True),
    ]
    report = transfer(trattoria, lines)
    coffee = trattoria.ids["ingredient:Espresso beans"]
    with trattoria.session() as session:
        movement = session.scalar(
            select(LedgerMovement).where(
                LedgerMovement.run_id == report.run_id, LedgerMovement.ingredient_id == coffee
            )
        )
        traced = trace.trace(session, movement.id)
    assert [(t.sale_id, t.quantity, t.contribution) for t in traced] == [
        ("A", Decimal(5), Decimal("-0.045")),
        ("B", Decimal(2), Decimal("-0.018")),
        ("C", Decimal(-1), Decimal("0.009")),
        ("D", Decimal(2), Decimal("-0.01")),
    ]
    assert sum(t.contribution for t in traced) == movement.quantity == Decimal("-0.064")
    remap_espresso(trattoria, "0.01")
    second = transfer(trattoria, lines)
    with trattoria.session() as session:
        reversal = session.scalar(
            select(LedgerMovement).where(LedgerMovement.reverses_id == movement.id)
        )
        assert reversal.run_id == second.run_id
        back = trace.trace(session, reversal.id)
    assert [t.contribution for t in back] == [-t.contribution for t in traced]


def _unreadable(*_args, **_kwargs):
    raise AssertionError("the catalog was read")


def test_an_unchanged_rerun_is_recognised_without_reading_the_catalog(trattoria, monkeypatch):
    first = transfer(trattoria, SALES)
    monkeypatch.setattr(runner.CATALOGS, "get", _unreadable)
    again = transfer(trattoria, list(reversed(SALES)))
    assert again.outcome is RunOutcome.UNCHANGED
    assert again.stats["unchanged_from_run"] == first.run_id


def test_a_catalog_edit_the_day_does_not_use_leaves_a_rerun_unchanged(trattoria):
    transfer(trattoria, SALES)
    import_catalog(
        trattoria.factory,
        "company: Trattoria Esempio\ningredients:\n  - {name: Sugar, base_unit: kg}\n",
        source="sugar.yaml",
    )
    assert transfer(trattoria, SALES).outcome is RunOutcome.UNCHANGED


def _fingerprint(database) -> str:
    with database.session() as session:
        location = session.get_one(ExternalLocation, database.ids["location:Main room"])
        return catalog_token(session, location.company_id)


CATALOG_EDITS = {
    "recipe line quantity": update(RecipeLine)
    .where(RecipeLine.quantity == Decimal("1.8"))
    .values(quantity=Decimal("2")),
    "recipe line trim": update(RecipeLine)
    .where(RecipeLine.trim == Decimal("0.04"))
    .values(trim=Decimal("0.05")),
    "recipe portions": update(Recipe).where(Recipe.name == "Sponge").values(portions=4),
    "measure": update(IngredientMeasure).values(amount=Decimal("0.7")),
    "ingredient base unit": update(Ingredient)
    .where(Ingredient.name == "Basil")
    .values(base_unit=Unit.KG),
    "ingredient name": update(Ingredient).where(Ingredient.name == "Basil").values(name="Basilico"),
    "recipe name": update(Recipe).where(Recipe.name == "Sponge").values(name="Sponge cake"),
    "storage unit name": update(StorageUnit).values(name=StorageUnit.name + " (old)"),
    "recipe line deleted": delete(RecipeLine).where(RecipeLine.trim == Decimal("0.04")),
    "measure deleted": delete(IngredientMeasure),
    "mapping deleted": delete(PosMapping),
    "item key": update(PosItem).where(PosItem.key == "300").values(key="300b"),
}


@pytest.mark.parametrize("edit", CATALOG_EDITS, ids=list(CATALOG_EDITS))
def test_every_input_of_a_snapshot_changes_the_catalog_fingerprint(trattoria, edit):
    before = _fingerprint(trattoria)
    assert _fingerprint(trattoria) == before
    with trattoria.session() as session, session.begin():
        assert session.execute(CATALOG_EDITS[edit]).rowcount >= 1
    assert _fingerprint(trattoria) != before


def test_a_catalog_write_that_cannot_change_a_snapshot_keeps_the_catalog_token(trattoria):
    before = _fingerprint(trattoria)
    with trattoria.session() as session, session.begin():
        session.execute(update(Ingredient).values(active=Ingredient.active))
        session.execute(update(PosItem).values(name=PosItem.name + "!"))
    assert _fingerprint(trattoria) == before


def test_a_mapping_change_changes_the_catalog_fingerprint(trattoria):
    before = _fingerprint(trattoria)
    remap_espresso(trattoria, "0.018")
    assert _fingerprint(trattoria) != before


def test_a_movement_that_rounds_up_to_the_quantity_limit_is_refused():
    """Inside the limit by less than half a unit, a deduction rounds onto it: checked from
    the exact deduction, it is rounded and refused, not let through unrounded."""
    result = run_engine(
        [sold("X", 1)],
        Snapshot({"X": IngredientTarget(7, Fraction(10**9) - Fraction(1, 3 * 10**9))}, {}),
        1,
    )
    catalog = SimpleNamespace(ingredients={7: ("Flour", "g")})
    with pytest.raises(
        ValidationFailed,
        match=r"would post -1,000,000,000 of Flour, which is too large; quantities",
    ):
        runner._check_movements(catalog, result)
    inside = run_engine(
        [sold("X", 1)],
        Snapshot({"X": IngredientTarget(7, Fraction(10**9) - Fraction(1, 10**9))}, {}),
        1,
    )
    runner._check_movements(catalog, inside)


def _arancini_registered(database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(PosItem.name).where(PosItem.key == "777")))


def test_items_a_rolled_back_run_registered_are_registered_again(trattoria):
    """The catalog learns a run's new items only once its transaction commits: a caller that
    gives up after posting (a CSV import whose later day fails) leaves no item behind, and
    the next run that sells it registers it."""
    location = trattoria.ids["location:Main room"]
    with pytest.raises(RuntimeError), unit_of_work(trattoria.factory) as session:
        transfer_in_session(
            session,
            location,
            DAY,
            [sold("777", 1, name="Arancini")],
            RawInput("t", "x"),
            kind=RunKind.MANUAL,
        )
        # a second read of the catalog in the same transaction sees the uncommitted item
        CATALOGS.clear()
        transfer_in_session(
            session,
            location,
            DAY + timedelta(days=1),
            [sold("101", 1)],
            RawInput("t", "x"),
            kind=RunKind.MANUAL,
        )
        raise RuntimeError("the caller gives up")
    assert _arancini_registered(trattoria) == []
    transfer(trattoria, [sold("777", 2, name="Arancini")], day=DAY + timedelta(days=2))
    assert _arancini_registered(trattoria) == ["Arancini"]


def test_a_committed_runs_new_items_and_snapshot_are_known_to_its_catalog(trattoria):
    """What the process learns from a run it committed: its new items exist, its snapshot is
    stored (the next day with the same items does not send it again, and its run still
    finds it)."""
    first = transfer(trattoria, [sold("777", 1, name="Arancini")])
    with trattoria.session() as session:
        location = session.get(ExternalLocation, trattoria.ids["location:Main room"])
        catalog = CATALOGS.get(session, location.company_id, location.connection_id)
        digest = session.get(TransferRun, first.run_id).snapshot_digest
    assert "777" in catalog.items and digest in catalog.snapshots
    assert _arancini_registered(trattoria) == ["Arancini"]
    second = transfer(trattoria, [sold("777", 3, name="Arancini")], day=DAY + timedelta(days=1))
    with trattoria.session() as session:
        assert session.get(TransferRun, second.run_id).snapshot_digest == digest
    assert count(trattoria, TransferSnapshot) == 1


def test_a_transfer_that_cannot_reach_the_database_says_so_without_a_run_number(tmp_path):
    """The database away, no failed run could be recorded either: the failure told in Slack
    read "posted nothing (run None): internal error: OperationalError(…)"."""
    gone = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'no such dir' / 'x.db'}"))
    with pytest.raises(TransferFailed) as caught:
        run_transfer(gone, 1, DAY, [], RawInput("test", "raw body"))
    said = str(caught.value)
    assert caught.value.run_id is None and caught.value.transient
    assert said == (
        "the transfer failed and posted nothing: the database could not be reached "
        "(OperationalError: unable to open database file)"
    )
