from datetime import date

from stockpot.bot.blocks.text import render
from stockpot.bot.blocks.transfer import left_out
from stockpot.core.migration import MigrationProgress


def test_text_templates_escape_for_slack_not_for_html():
    text = render(
        "migration_summary.txt",
        name="Tom's <Bar> & Grill",
        result=MigrationProgress(
            first=date(2026, 11, 25),
            last=date(2026, 11, 27),
            done=3,
            posted=2,
            failed=["2026-11-27: <error>"],
        ),
    )
    assert text.splitlines() == [
        ":warning: Migrated Tom's &lt;Bar&gt; &amp; Grill: 3/3 days (2026-11-25 to 2026-11-27), "
        "2 posted, 0 unchanged, 1 failed",
        "• 2026-11-27: &lt;error&gt;",
    ]


def test_a_migration_without_failures_reads_done():
    """Like reprocessing's summary: a check mark when every day went through, a warning when
    some failed (above)."""
    text = render(
        "migration_summary.txt",
        name="Teltow",
        result=MigrationProgress(
            first=date(2026, 11, 25), last=date(2026, 11, 27), done=3, posted=3
        ),
    )
    assert text.startswith(":white_check_mark: Migrated Teltow: 3/3 days")


def test_transfer_statistics_read_as_one_line():
    stats = {
        "sales": 4,
        "lines": 9,
        "mapped": 5,
        "unmapped": 1,
        "ignored": 1,
        "skipped": {"voided_line": 1, "non_item": 2},
    }
    assert render("transfer_stats.txt", stats=stats, left_out=left_out(stats["skipped"])) == (
        "4 sales, 9 lines: 5 mapped, 1 unmapped, 1 ignored; left out: 1 voided line, "
        "2 tip, fee or discount lines"
    )
