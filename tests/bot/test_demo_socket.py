"""``stockpot demo --socket-mode``: the page's commands reach the bot as Socket Mode envelopes
over the WebSocket the bot opened, and come back as in HTTP mode."""

from __future__ import annotations

import httpx

from stockpot.bot.demo import Demo


def test_the_demo_over_socket_mode_answers_from_the_page(tmp_path):
    running = Demo(data_dir=tmp_path / "demo", port=0, socket_mode=True)
    url = running.start()
    try:
        answer = httpx.post(f"{url}ui/command", json={"text": "/pos help"}, timeout=30)
        assert answer.status_code == 200, answer.text
        slack = next(s for s in running.servers if getattr(s, "socket_mode", None))
        assert [ack.type for ack in slack.socket_mode.acks] == ["slash_commands"]
        slack.wait_for("response_url", where=lambda c: "what it can do" in str(c.args))
        assert slack.wait_for("apps.connections.open")
    finally:
        running.stop()
