"""The daily report job: the report message, then its chart."""

from __future__ import annotations

from typing import Any

from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.report import report_blocks
from stockpot.bot.charts import consumption_chart
from stockpot.bot.jobs.slack import Reporting
from stockpot.core.jobs.schedule import superseding_report
from stockpot.core.jobs.specs import notify_of
from stockpot.core.jobs.worker import JobContext
from stockpot.core.reports import CHART_DAYS, daily_report


class ReportJob(Reporting):
    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        assert job.business_date is not None
        notify = notify_of(job.payload)
        target = self.notifier.target(job.company_id, notify)
        if target is None:
            return {"posted": False, "why": "no report channel: `/pos report here` sets one"}
        with context.factory() as session:
            # One asked for (``notify``) is posted whatever else is queued.
            later = notify is None and superseding_report(
                session, job.company_id, job.business_date
            )
            if later:
                return {"posted": False, "why": f"superseded by the report of {later}"}
            report = daily_report(session, job.company_id, job.business_date)
        self.notifier.post_once(
            context,
            "ts",
            target,
            message(f"Daily report of {escape(report.company)}", report_blocks(report)),
        )
        chart = consumption_chart(
            report.consumption, f"{report.company}: consumption, last {CHART_DAYS} days"
        )
        self.notifier.upload_once(
            context,
            target,
            filename=f"consumption-{report.day}.png",
            content=chart,
            title=f"Consumption of the top ingredients to {report.day}",
        )
        return {"posted": True, "locations": len(report.locations)}
