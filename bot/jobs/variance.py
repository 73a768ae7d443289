"""The variance report a count queues when it closes a period (its storage unit was counted
before): the period's variance to the report channel (or where the count was posted from
Slack), then a chart of the largest variances by money. A job, so counts posted from the CLI,
a shared file or the count sheet all report the same way, once."""

from __future__ import annotations

from typing import Any

from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.stock import variance_blocks
from stockpot.bot.charts import variance_chart
from stockpot.bot.jobs.slack import Reporting
from stockpot.core.jobs.specs import VariancePayload, notify_of, payload_of
from stockpot.core.jobs.worker import JobContext
from stockpot.core.models import Company, StorageUnit
from stockpot.core.stock.variance import count_dates, period_variance

CHART_LINES = 10


class VarianceJob(Reporting):
    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        closing = job.business_date
        assert closing is not None
        target = self.notifier.target(job.company_id, notify_of(job.payload))
        if target is None:
            return {"posted": False, "why": "no report channel: `/pos report here` sets one"}
        with context.factory() as session:
            company = session.get_one(Company, job.company_id)
            unit = session.get_one(
                StorageUnit, payload_of(VariancePayload, job.payload).storage_unit_id
            )
            earlier = [d for d in count_dates(session, company.id, unit.id) if d < closing]
            if not earlier:
                return {"posted": False, "why": "the count opens the first period"}
            report = period_variance(session, company, unit, earlier[-1], closing)
        self.notifier.post_once(
            context,
            "ts",
            target,
            message(f"Variance of {escape(report.storage_unit)}", variance_blocks(report)),
        )
        largest = [(line.ingredient, line.value) for line in report.lines if line.value]
        chart = variance_chart(
            [(name, amount) for name, amount in largest[:CHART_LINES] if amount is not None],
            f"{report.storage_unit}: largest variances, "
            f"{report.opening_date} → {report.closing_date}",
            report.currency,
        )
        self.notifier.upload_once(
            context,
            target,
            filename=f"variance-{unit.name}-{closing}.png",
            content=chart,
            title=f"Largest variances of {report.storage_unit} by money",
        )
        return {"posted": True, "lines": len(report.lines)}
