"""Timing acks with a load generator written in C: wrk (https://github.com/wg/wrk, Debian's
package ``wrk``).

Why: the Python client (``bench.bot.acked``, 20 threads in one interpreter) shares the host's
2 cores with the server it times, and at 20 requests in flight it is starved itself. A server
that answers faster keeps it busier, so its tail was the client's as much as the server's:
``stockpot serve`` with Bolt taken out (size, timestamp and signature checked, then 200 at once)
had a p99 1.36-1.54 × bare Bolt's under it. wrk keeps 20 connections busy from one thread in a
few percent of a core.

The requests are Slack's, made by ``SlackSender`` as for the Python client and captured
instead of sent (each signed, with its own trigger id and response key), then handed to wrk's
Lua script, which sends each once, counts the answers that were not 200, and stops after the
last; its ``done`` prints every request's latency (wrk's histogram, microseconds, sorted).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.bot import SECRET, AnySlack, Request
from stockpot.sandbox.slack_sender import SlackSender

SCRIPT = """
-- globals, not locals: done() reads them with thread:get()
prepared, count, sent, answered, failed, limit = {}, 0, 0, 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(args[2])
  for index, request in ipairs(dofile(args[1])) do
    prepared[index] = wrk.format("POST", request[1], request[2], request[3])
  end
  count = #prepared
end

function request()
  sent = sent + 1
  return prepared[sent] or prepared[#prepared]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then failed = failed + 1 end
  if answered == limit then
    io.write("stopped\\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  local values = {}
  -- wrk keeps a histogram: latency(i) is its i-th distinct value and how many requests took
  -- it, #latency how many distinct values there are (not one value per request).
  for index = 1, #latency do
    local value, times = latency(index)
    for _ = 1, times do
      values[#values + 1] = string.format("%d", value)
    end
  end
  io.write(string.format(
    '{"failed": %d, "sent": %d, "prepared": %d, "errors": %d, "latencies_us": [%s]}\\n',
    thread:get("failed"), thread:get("sent"), thread:get("count"),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    table.concat(values, ",")))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def captured(
    events_url: str, slack: AnySlack, requests: Sequence[Request]
) -> list[tuple[str, dict[str, str], str]]:
    """Each request as Slack would send it now (path, headers, body), not sent."""
    taken: list[httpx.Request] = []

    def take(request: httpx.Request) -> httpx.Response:
        taken.append(request)
        return httpx.Response(200)

    sender = SlackSender(events_url, SECRET, slack, transport=httpx.MockTransport(take))
    try:
        for request in requests:
            request(sender)
    finally:
        sender.close()
    return [
        (
            request.url.raw_path.decode(),
            {
                name: request.headers[name]
                for name in ("Content-Type", "X-Slack-Request-Timestamp", "X-Slack-Signature")
            },
            request.content.decode(),
        )
        for request in taken
    ]


def lua_table(requests: list[tuple[str, dict[str, str], str]]) -> str:
    """A Lua chunk returning the requests: ``{{path, {[name] = value}, body}, ...}``."""

    def text(value: str) -> str:
        """JSON's string escapes are Lua's for printable ASCII, which is all that Slack's
        form-encoded bodies and these headers hold."""
        if not value.isascii() or not value.isprintable():
            raise ValueError(f"not printable ASCII, which this Lua writer is not for: {value!r}")
        return json.dumps(value)

    def entry(path: str, headers: dict[str, str], body: str) -> str:
        named = ", ".join(f"[{text(name)}] = {text(value)}" for name, value in headers.items())
        return f"{{{text(path)}, {{{named}}}, {text(body)}}}"

    return "return {" + ",\n".join(entry(*request) for request in requests) + "}"


def wrk_acked(
    events_url: str, slack: AnySlack, requests: Sequence[Request], concurrency: int
) -> list[float]:
    """Seconds from sending each request to its ack (sorted), ``concurrency`` connections at
    a time, the requests sent by wrk; any answer but 200 is an error."""
    spare = [*requests, *requests[: 2 * concurrency]]
    """Sent after the last timed answer, by connections still going: each has a trigger id
    and signature of its own (a repeated request would be a replay, acked by another path)."""
    prepared = captured(events_url, slack, spare)
    return wrk_latencies(events_url, prepared, len(requests), concurrency)


def wrk_latencies(
    url: str, prepared: list[tuple[str, dict[str, str], str]], timed: int, concurrency: int
) -> list[float]:
    """Seconds from sending each request to its answer (sorted): wrk sends ``prepared`` in
    turn over ``concurrency`` connections and stops once ``timed`` are answered; any answer
    but 200 is an error."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "requests.lua"
        data.write_text(lua_table(prepared))
        script = Path(folder) / "acks.lua"
        script.write_text(SCRIPT)
        target = urlsplit(url)
        process = subprocess.Popen(
            [
                "wrk",
                "--threads", "1",
                "--connections", str(concurrency),
                "--duration", "300s",
                "--timeout", "10s",
                "--script", str(script),
                f"{target.scheme}://{target.netloc}/",
                "--", str(data), str(timed),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        result = None
        for line in process.stdout:
            if line.strip() == "stopped":
                process.send_signal(signal.SIGINT)
            elif line.startswith('{"failed"'):
                result = json.loads(line)
        if process.wait() != 0 or result is None:
            raise RuntimeError(f"wrk exited {process.returncode} without its figures")
    if result["failed"] or result["errors"] or result["sent"] > result["prepared"]:
        raise RuntimeError(
            f"wrk: {result['failed']} answers not 200, {result['errors']} socket errors, "
            f"{result['sent']} sent of {result['prepared']}"
        )
    return [microseconds / 1e6 for microseconds in result["latencies_us"]]
