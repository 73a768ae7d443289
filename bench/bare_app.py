"""The reference for Slack acknowledgement latency: a Bolt app that only acknowledges, served
like ``stockpot serve`` (waitress, 8 threads).

    python -m bench.bare_app --port PORT   # SLACK_SIGNING_SECRET, SLACK_API_URL from the env
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

import waitress
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def bare_app() -> App:
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=WebClient(token="xoxb-bare", base_url=os.environ["SLACK_API_URL"]),
    )

    def only_ack(ack: Ack) -> None:
        ack()

    def no_options(ack: Ack, **_: Any) -> None:
        ack(options=[])

    app.command(re.compile(".*"))(only_ack)
    app.action(re.compile(".*"))(only_ack)
    app.options(re.compile(".*"))(no_options)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    waitress.serve(SlackRequestHandler(bare_app()), host="127.0.0.1", port=port, threads=8)


if __name__ == "__main__":
    main()
