"""``stockpot sandbox --slack-port``: a stand-in for Slack an operator points a real
``stockpot run`` at, with the settings it prints, and uses from its page."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from pathlib import Path

import httpx

from stockpot.core.crypto import generate_key
from tests.bot.test_serve_process import STOCKPOT, answers, free_port, until


def started(process: subprocess.Popen[str]) -> list[str]:
    """The lines the sandbox printed up to its last one."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C stops."):
            return lines
    raise AssertionError(f"the sandbox ended: {lines}")


def test_the_sandbox_slack_is_a_channel_a_real_stockpot_answers(tmp_path):
    """Before, `stockpot sandbox` ran only the POS servers: trying `serve` and a worker
    without a Slack workspace took Python of one's own."""
    port = free_port()
    sandbox = subprocess.Popen(
        [
            STOCKPOT,
            "sandbox",
            "--lightspeed-port",
            "0",
            "--sides-port",
            "0",
            "--slack-port",
            "0",
            "--events-url",
            f"http://127.0.0.1:{port}/slack/events",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = None
    try:
        printed = started(sandbox)
        exports = dict(
            line.removeprefix("  export ").split("=", 1)
            for line in printed
            if line.startswith("  export ")
        )
        assert exports["SLACK_BOT_TOKEN"].startswith("xoxb-sandbox-")
        page = next(line for line in printed if line.startswith("Slack: open ")).split()[2]
        env = {
            **os.environ,
            **exports,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'stockpot.db'}",
            "STOCKPOT_SECRET_KEY": generate_key(),
            "STOCKPOT_DATA_DIR": str(tmp_path),
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([STOCKPOT, "db", "upgrade"], env=env, check=True, capture_output=True)
        served = subprocess.Popen(
            [STOCKPOT, "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert until(lambda: answers(port) or served.poll() is not None) and served.poll() is None
        version = httpx.get(f"{page}ui/state").json()["version"]
        sent = httpx.post(f"{page}ui/command", json={"text": "/ledger balances"}, timeout=10)
        assert sent.status_code == 200, sent.text
        # The request was signed with the printed secret and answered through the stand-in:
        # this workspace speaks for no company yet, which the answer says, with the way on.
        said: list[str] = []
        for _ in range(6):
            state = httpx.get(f"{page}ui/state", params={"since": version}, timeout=15).json()
            version = state["version"]
            said = [message["text"] for message in state["messages"]]
            if any("/pos setup" in text for text in said):
                break
        assert any("/pos setup" in text for text in said), said
    finally:
        if served is not None:
            served.terminate()
            served.wait(timeout=30)
        sandbox.send_signal(signal.SIGINT)
        output, _ = sandbox.communicate(timeout=30)
    assert sandbox.returncode == 0, output


def test_ctrl_c_stops_the_sandbox_whichever_of_its_threads_the_kernel_hands_it_to():
    """The sandbox waited for KeyboardInterrupt in an untimed wait: a SIGINT the kernel gave
    one of its servers' threads never reached the main thread, and it ran on (CI saw it, 30 s
    after the signal). Here the signal is sent to a thread that is not the main one."""
    sandbox = subprocess.Popen(
        [STOCKPOT, "sandbox", "--lightspeed-port", "0", "--sides-port", "0", "--slack-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        started(sandbox)
        threads = [int(task.name) for task in Path(f"/proc/{sandbox.pid}/task").iterdir()]
        other = next(tid for tid in sorted(threads) if tid != sandbox.pid)
        assert ctypes.CDLL(None, use_errno=True).tgkill(sandbox.pid, other, signal.SIGINT) == 0
        output, _ = sandbox.communicate(timeout=30)
    finally:
        if sandbox.poll() is None:
            sandbox.kill()
            sandbox.wait()
    assert sandbox.returncode == 0, output
