"""The Slack stand-in refuses what Slack refuses, with Slack's error shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from stockpot.sandbox.http import Clock
from stockpot.sandbox.slack import METHOD_SCOPES, TRIGGER_LIFETIME, SlackStandIn
from stockpot.sandbox.slack_blockkit import message_problems, view_problems

TOKEN = {"Authorization": "Bearer xoxb-sandbox"}


@pytest.fixture
def slack():
    """On a clock that stands still: a trigger issued, then used, is used at once however
    slow the machine (the 3 s pass when a test moves the clock)."""
    with SlackStandIn(clock=Clock(datetime.now(UTC))).running() as server:
        server.install("xoxb-sandbox", METHOD_SCOPE_NAMES)
        yield server


METHOD_SCOPE_NAMES = sorted({scope for scopes in METHOD_SCOPES.values() for scope in scopes})


def call(slack, method: str, headers=TOKEN, **args) -> dict:
    return httpx.post(f"{slack.api_url}{method}", json=args, headers=headers).json()


def section(text: str = "hi", **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def test_unknown_methods_and_missing_or_malformed_tokens_are_refused(slack):
    assert call(slack, "chat.postMessagez", channel="C1", text="x")["error"] == "unknown_method"
    assert call(slack, "chat.postMessage", headers={}, channel="C1", text="x")["error"] == (
        "not_authed"
    )
    bad = {"Authorization": "Bearer hunter2"}
    assert call(slack, "chat.postMessage", headers=bad, channel="C1", text="x")["error"] == (
        "invalid_auth"
    )
    assert call(slack, "chat.postMessage", text="x")["error"] == "channel_not_found"
    assert call(slack, "chat.postMessage", channel="C1")["error"] == "no_text"
    assert call(slack, "chat.postMessage", channel="C1", text="x")["ok"]
    assert [c.method for c in slack.calls] == ["chat.postMessage"], "refusals are not recorded"


def test_blocks_beyond_slacks_limits_are_refused(slack):
    answer = call(slack, "chat.postMessage", channel="C1", text="x", blocks=[section()] * 51)
    assert answer["error"] == "invalid_blocks"
    assert "more than 50" in json.dumps(answer["response_metadata"])
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}
    answer = call(slack, "views.open", trigger_id=slack.issue_trigger("t"), view=long_title)
    assert answer["error"] == "invalid_arguments"
    assert "view.title" in answer["response_metadata"]["messages"][0]


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x" * 3001)], "blocks[0].text: more than 3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "more than 150"),
        ([section(fields=[{"type": "mrkdwn", "text": "f"}] * 11)], "fields: more than 10"),
        ([section(block_id="a"), section(block_id="a")], "'a' is used twice"),
        ([{"type": "banner"}], "unknown block type"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}}
                    ],
                }
            ],
            "elements[0].text: more than 75",
        ),
    ],
)
def test_each_message_limit(blocks, problem):
    assert any(problem in found for found in message_problems(blocks))


def actions(*elements: dict) -> list[dict]:
    return [{"type": "actions", "elements": list(elements)}]


def options(count: int) -> list[dict]:
    return [
        {"text": {"type": "plain_text", "text": f"o{n}"}, "value": str(n)} for n in range(count)
    ]


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        (actions({"type": "overflow", "options": options(6)}), "options: 6, not between 1 and 5"),
        (actions({"type": "overflow", "options": []}), "options: 0, not between 1 and 5"),
        (actions({"type": "checkboxes", "options": options(11)}), "not between 0 and 10"),
        (actions({"type": "radio_buttons", "options": options(11)}), "not between 0 and 10"),
        (
            actions({"type": "static_select", "option_groups": [{"options": []}] * 101}),
            "option_groups: 101",
        ),
        (
            actions(
                {
                    "type": "button",
                    "text": plain("Delete"),
                    "confirm": {"title": plain("t"), "text": plain("x" * 301)},
                }
            ),
            "confirm.text: more than 300",
        ),
        (
            actions(
                {
                    "type": "button",
                    "text": plain("Delete"),
                    "confirm": {"title": plain("t"), "text": plain("x"), "deny": plain("n" * 31)},
                }
            ),
            "confirm.deny: more than 30",
        ),
        (
            [{"type": "image", "image_url": "https://x/" + "a" * 3000, "alt_text": "chart"}],
            "image_url: more than 3000",
        ),
        (
            [{"type": "context", "elements": [{"type": "image", "alt_text": "a" * 2001}]}],
            "elements[0].alt_text: more than 2000",
        ),
        ([{"type": "markdown", "text": "m" * 12001}], "text: more than 12000"),
        ([{"type": "table", "rows": [[]] * 101}], "rows: 101, not between 0 and 100"),
        ([{"type": "table", "rows": [[{}] * 21]}], "rows[0]: 21, not between 0 and 20"),
        (
            [
                {
                    "type": "input",
                    "label": plain("L"),
                    "hint": plain("h" * 2001),
                    "element": {"type": "plain_text_input", "max_length": 3001},
                }
            ],
            "hint: more than 2000",
        ),
        (
            [
                {
                    "type": "input",
                    "label": plain("L"),
                    "element": {"type": "plain_text_input", "max_length": 3001},
                }
            ],
            "max_length: more than 3000",
        ),
        (
            [
                {
                    "type": "input",
                    "label": plain("F"),
                    "element": {"type": "file_input", "max_files": 11},
                }
            ],
            "max_files: not between 1 and 10",
        ),
    ],
)
def test_the_other_documented_limits(blocks, problem):
    """Reference slack.md §5 lists these limits; the stand-in did not check them, so a
    message or form over one passed here and would be refused by Slack."""
    assert any(problem in found for found in message_problems(blocks)), message_problems(blocks)


def test_view_limits():
    inputs = [{"type": "input", "label": {"type": "plain_text", "text": "L"}, "element": {}}]
    problems = view_problems(
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "ok"},
            "private_metadata": "m" * 3001,
            "blocks": inputs,
        }
    )
    assert any("private_metadata" in p for p in problems)
    assert any("needs a submit" in p for p in problems)
    assert any("needs an element" in p for p in problems)
    assert view_problems({"type": "home", "blocks": [section()] * 100}) == []
    assert view_problems({"type": "home", "blocks": [section()] * 101})


def test_a_method_the_installed_scopes_do_not_allow_is_missing_scope(slack):
    slack.install("xoxb-sandbox", ["commands", "chat:write", "files:read"])
    answer = httpx.post(
        f"{slack.api_url}files.getUploadURLExternal",
        data={"filename": "a.csv", "length": "3"},
        headers=TOKEN,
    )
    assert answer.json() == {
        "ok": False,
        "error": "missing_scope",
        "needed": "files:write",
        "provided": "chat:write,commands,files:read",
    }
    assert answer.headers["x-oauth-scopes"] == "chat:write,commands,files:read"
    assert answer.headers["x-accepted-oauth-scopes"] == "files:write"
    assert call(slack, "users.info", user="U1")["needed"] == "users:read"
    # Methods that need no scope, and those the scopes allow, still answer.
    assert call(slack, "auth.test")["ok"]
    assert call(slack, "chat.postMessage", channel="C1", text="x")["ok"]
    assert [c.method for c in slack.calls] == ["auth.test", "chat.postMessage"]


def test_channels_the_bot_is_not_in_are_refused_as_slack_does(slack):
    slack.install("xoxb-sandbox", ["chat:write", "files:write"])
    slack.outside_channels |= {"CPUB", "GPRIV"}
    slack.private_channels.add("GPRIV")
    assert call(slack, "chat.postMessage", channel="CPUB", text="x")["error"] == "not_in_channel"
    assert call(slack, "chat.postEphemeral", channel="CPUB", user="U1", text="x")["error"] == (
        "not_in_channel"
    )
    assert call(slack, "chat.postMessage", channel="GPRIV", text="x")["error"] == (
        "channel_not_found"
    )
    # chat:write.public lets a bot post (not whisper) in public channels it has not joined.
    slack.install("xoxb-sandbox", ["chat:write", "chat:write.public"])
    assert call(slack, "chat.postMessage", channel="CPUB", text="x")["ok"]
    assert call(slack, "chat.postMessage", channel="GPRIV", text="x")["error"] == (
        "channel_not_found"
    )


def test_an_archived_channel_keeps_its_history_and_takes_no_post_or_edit(slack):
    """chat.postMessage's page lists ``is_archived``; chat.update's ``is_inactive`` ("cannot
    be edited within a frozen, archived or deleted channel")."""
    posted = call(slack, "chat.postMessage", channel="C1", text="before")
    slack.archive("C1")
    assert call(slack, "chat.postMessage", channel="C1", text="x")["error"] == "is_archived"
    edit = call(slack, "chat.update", channel="C1", ts=posted["ts"], text="x")
    assert edit["error"] == "is_inactive"
    history = call(slack, "conversations.history", channel="C1")
    assert [m["text"] for m in history["messages"]] == ["before"]
    assert call(slack, "chat.postMessage", channel="C2", text="elsewhere")["ok"]


def test_an_install_grants_the_apps_scopes(slack):
    slack.installing_scopes = ("commands", "chat:write")
    answer = httpx.post(f"{slack.api_url}oauth.v2.access", data={"code": "c"}).json()
    assert answer["scope"] == "commands,chat:write"
    token = {"Authorization": f"Bearer {answer['access_token']}"}
    assert call(slack, "files.info", headers=token, file="F1")["error"] == "missing_scope"


def test_only_tokens_slack_issued_and_still_live_are_accepted(slack):
    """docs.slack.dev, every method's errors: no token is ``not_authed``, a token Slack never
    issued ``invalid_auth`` (whatever its prefix), a bot token of a workspace that removed the
    app ``account_inactive``, a revoked one ``token_revoked``; none of them is recorded."""
    never = {"Authorization": "Bearer xoxb-1-never-issued"}
    assert call(slack, "auth.test", headers=never) == {"ok": False, "error": "invalid_auth"}
    assert call(slack, "chat.postMessage", headers=never, channel="C1", text="x")["error"] == (
        "invalid_auth"
    )
    assert call(slack, "auth.test", headers={})["error"] == "not_authed"
    form = httpx.post(f"{slack.api_url}auth.test", data={"token": "xoxb-sandbox"}).json()
    assert form["ok"] and form["team_id"] == slack.team_id, "a token as a POST parameter works"
    slack.add_file("F1", "a.csv", b"a,b\n")
    url = f"{slack.url}/files/F1"
    assert httpx.get(url, headers=never).headers["content-type"].startswith("text/html")
    assert httpx.get(url, headers=TOKEN).content == b"a,b\n"

    slack.install("xoxb-other", ["chat:write"], team_id="T0009")
    slack.uninstall()  # the stand-in's own workspace
    assert call(slack, "auth.test")["error"] == "account_inactive"
    assert httpx.get(url, headers=TOKEN).headers["content-type"].startswith("text/html")
    other = {"Authorization": "Bearer xoxb-other"}
    assert call(slack, "auth.test", headers=other)["team_id"] == "T0009"
    slack.revoke("xoxb-other")
    assert call(slack, "auth.test", headers=other)["error"] == "token_revoked"
    slack.install("xoxb-sandbox", ["chat:write"])  # installed again: a live token
    assert call(slack, "auth.test")["ok"]
    assert [c.method for c in slack.calls] == ["auth.test", "auth.test", "auth.test"]


def test_oauth_access_takes_the_apps_client_and_a_code_once(slack):
    slack.oauth_client = ("111.222", "s3cret")
    access = f"{slack.api_url}oauth.v2.access"
    assert httpx.post(access, data={"code": "c"}).json()["error"] == "invalid_client_id"
    wrong = httpx.post(access, data={"code": "c"}, auth=("111.222", "nope")).json()
    assert wrong["error"] == "bad_client_secret"
    assert httpx.post(access, data={"client_id": "111.222"}).json()["error"] == (
        "bad_client_secret"
    )
    first = httpx.post(access, data={"code": "c"}, auth=("111.222", "s3cret")).json()
    assert first["ok"] and first["team"]["id"] == slack.installing_team
    again = httpx.post(access, data={"code": "c"}, auth=("111.222", "s3cret")).json()
    assert again["error"] == "invalid_code", "a code works once"
    as_form = {"code": "d", "client_id": "111.222", "client_secret": "s3cret"}
    assert httpx.post(access, data=as_form).json()["ok"]
    token = {"Authorization": f"Bearer {first['access_token']}"}
    assert call(slack, "auth.test", headers=token)["team_id"] == slack.installing_team


def test_history_pages_the_channel_and_shows_metadata_only_when_asked(slack):
    """``conversations.history`` / ``.replies`` as Slack's method pages describe them."""
    stamp = {"event_type": "job", "event_payload": {"key": "k1"}}
    assert (
        call(slack, "chat.postMessage", channel="C1", text="x", metadata={"event_type": 1})["error"]
        == "invalid_metadata_format"
    )
    first = call(slack, "chat.postMessage", channel="C1", text="first", metadata=stamp)["ts"]
    for n in range(3):
        call(slack, "chat.postMessage", channel="C1", text=f"later {n}")
    call(slack, "chat.postMessage", channel="C1", text="reply", thread_ts=first)
    page = call(slack, "conversations.history", channel="C1", limit=2)
    assert [m["text"] for m in page["messages"]] == ["later 2", "later 1"] and page["has_more"]
    assert all("metadata" not in m for m in page["messages"])
    rest = call(
        slack,
        "conversations.history",
        channel="C1",
        include_all_metadata=True,
        cursor=page["response_metadata"]["next_cursor"],
    )
    assert [m["text"] for m in rest["messages"]] == ["later 0", "first"], "no thread replies"
    assert rest["messages"][-1]["metadata"] == stamp and not rest["has_more"]
    newer = call(slack, "conversations.history", channel="C1", oldest=first)["messages"]
    assert "first" not in [m["text"] for m in newer], "oldest is exclusive unless inclusive"
    thread = call(slack, "conversations.replies", channel="C1", ts=first)["messages"]
    assert [m["text"] for m in thread] == ["first", "reply"]
    assert call(slack, "conversations.replies", channel="C1", ts="1.2")["error"] == (
        "thread_not_found"
    )
    assert call(slack, "conversations.history", channel="C1", cursor="zz")["error"] == (
        "invalid_cursor"
    )
    assert call(slack, "conversations.history", channel="C1", oldest="x")["error"] == (
        "invalid_ts_oldest"
    )
    slack.outside_channels.add("C9")
    assert call(slack, "conversations.history", channel="C9")["error"] == "not_in_channel"
    slack.install("xoxb-sandbox", ["chat:write"])
    refused = call(slack, "conversations.history", channel="C1")
    assert (refused["error"], refused["needed"]) == ("missing_scope", "channels:history")


def test_files_list_finds_shared_files_by_channel_and_time(slack):
    ticket = call(slack, "files.getUploadURLExternal", filename="a.png", length=3)
    httpx.post(ticket["upload_url"], content=b"png")
    files = [{"id": ticket["file_id"], "title": "A chart"}]
    call(slack, "files.completeUploadExternal", files=files, channel_id="C1")
    listed = call(slack, "files.list", channel="C1", ts_from="0")
    assert [(f["name"], f["title"]) for f in listed["files"]] == [("a.png", "A chart")]
    assert call(slack, "files.list", channel="C2")["files"] == []
    assert call(slack, "files.list", channel="C1", ts_from="99999999999")["files"] == []


def test_a_response_url_takes_five_answers_within_thirty_minutes(slack):
    """Reference slack.md §1.5: up to 5 answers in 30 minutes; §5: a message's block limits
    hold for an answer too. The stand-in took any number of answers, any time, any blocks."""
    url = slack.issue_response_url("five", "C1")
    statuses = [httpx.post(url, json={"text": f"answer {n}"}).status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert slack.refused_responses == [("five", "used_url")]
    assert slack.response_keys.count("five") == 5, "the refused answer is not shown"

    late = slack.issue_response_url("late", "C1")
    slack.clock.advance(timedelta(minutes=30, seconds=1))
    assert httpx.post(late, json={"text": "too late"}).text == "expired_url"

    fresh = slack.issue_response_url("blocks", "C1")
    refused = httpx.post(fresh, json={"text": "x", "blocks": [section()] * 51})
    assert (refused.status_code, refused.text) == (400, "invalid_blocks")
    assert httpx.post(fresh, json={"text": "x", "blocks": [section()] * 50}).status_code == 200


def test_views_open_with_a_live_trigger_and_update_an_open_view_at_its_hash(slack):
    """Reference slack.md §1.5/§1.6: views.open needs a trigger_id, used within 3 s;
    views.update answers not_found once the user closed the view, and takes a hash against
    races (a stale one is hash_conflict). The stand-in opened any view and updated any id."""
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Count"}, "blocks": []}
    assert call(slack, "views.open", view=modal)["error"] == "invalid_trigger_id"
    assert call(slack, "views.open", trigger_id="1.forged", view=modal)["error"] == (
        "invalid_trigger_id"
    )
    assert slack.trigger_lifetime == TRIGGER_LIFETIME, "Slack's 3 s, without being asked"
    late = slack.issue_trigger("2.late")
    slack.clock.advance(timedelta(seconds=3, milliseconds=1))
    assert call(slack, "views.open", trigger_id=late, view=modal)["error"] == "expired_trigger_id"

    opened = call(slack, "views.open", trigger_id=slack.issue_trigger("3.now"), view=modal)
    view_id, first = opened["view"]["id"], opened["view"]["hash"]
    updated = call(slack, "views.update", view_id=view_id, hash=first, view=modal)
    assert updated["ok"] and updated["view"]["hash"] != first
    stale = call(slack, "views.update", view_id=view_id, hash=first, view=modal)
    assert stale["error"] == "hash_conflict"
    assert call(slack, "views.update", view_id=view_id, view=modal)["ok"], "hash is optional"
    slack.workspace.close_view()
    assert call(slack, "views.update", view_id=view_id, view=modal)["error"] == "not_found"


def test_a_message_shows_its_first_40000_characters(slack):
    """Reference slack.md §5: Slack truncates a message's text at 40,000 characters; the
    stand-in showed all of it, so a test could read what nobody in Slack would see."""
    long = "a" * 40_000 + "TAIL"
    posted = call(slack, "chat.postMessage", channel="C1", text=long)
    shown = slack.workspace.message(posted["ts"])
    assert shown is not None and shown.text == "a" * 40_000
    # chat.update's own limit is tighter: "The `text` field cannot exceed 4,000 characters"
    # (msg_too_long, its page on docs.slack.dev); the stand-in took 40,000 and truncated.
    refused = call(slack, "chat.update", channel="C1", ts=posted["ts"], text="b" * 4001)
    assert refused == {"ok": False, "error": "msg_too_long"}
    assert slack.workspace.message(posted["ts"]).text == "a" * 40_000
    call(slack, "chat.update", channel="C1", ts=posted["ts"], text="b" * 4000)
    assert slack.workspace.message(posted["ts"]).text == "b" * 4000


def test_a_menu_has_options_and_its_initial_option_is_one_of_them():
    """Slack takes a static menu with options (or option groups) and an ``initial_option``
    that "exactly matches one of the options", text and value; the stand-in took an empty
    menu and any initial option, so a menu Slack refuses passed here."""
    menu = {"type": "static_select", "options": options(2)}
    assert message_problems(actions(menu)) == []
    assert message_problems(actions({**menu, "initial_option": options(2)[1]})) == []
    grouped = {
        "type": "static_select",
        "option_groups": [{"label": plain("g"), "options": options(2)}],
    }
    assert message_problems(actions({**grouped, "initial_option": options(2)[0]})) == []
    renamed = {"text": plain("other"), "value": "1"}
    for element, problem in (
        ({**menu, "options": []}, "options: 0, not between 1 and 100"),
        ({"type": "static_select", "option_groups": []}, "option_groups: 0, not between 1"),
        ({**menu, "initial_option": renamed}, "initial_option: '1' is not one of the options"),
        ({**grouped, "initial_option": options(3)[2]}, "'2' is not one of the options"),
        (
            {"type": "checkboxes", "options": options(2), "initial_options": [renamed]},
            "initial_option: '1' is not one of the options",
        ),
    ):
        found = message_problems(actions(element))
        assert any(problem in p for p in found), found
    external = {"type": "external_select", "initial_option": renamed}
    assert message_problems(actions(external)) == []


def test_a_modal_stack_holds_three_views_of_at_most_250_kb(slack):
    """Reference slack.md §1.6: open and two pushes (push_limit_reached beyond), a view
    payload over 250 kB is view_too_large; the stand-in pushed and opened any."""
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Step"}, "blocks": []}

    def push(method: str) -> dict:
        return call(slack, method, trigger_id=slack.issue_trigger(f"t.{method}"), view=modal)

    assert push("views.open")["ok"]
    assert push("views.push")["ok"] and push("views.push")["ok"]
    assert push("views.push")["error"] == "push_limit_reached"
    huge = {**modal, "private_metadata": "", "blocks": [section("x" * 2900)] * 90}
    answer = call(slack, "views.open", trigger_id=slack.issue_trigger("t.huge"), view=huge)
    assert answer["error"] == "view_too_large"


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("")], "blocks[0].text.text: must be more than 0 characters"),
        ([{"type": "section", "text": "bare string"}], "blocks[0].text: not a text object"),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*Stock*"}}],
            "blocks[0].text: must be of type plain_text, not mrkdwn",
        ),
        ([{"type": "header", "text": plain("")}], "must be more than 0 characters"),
        (
            actions({"type": "button", "text": {"type": "mrkdwn", "text": "*Go*"}}),
            "elements[0].text: must be of type plain_text",
        ),
        (actions({"type": "button", "action_id": "b"}), "elements[0].text: missing"),
        ([{"type": "actions", "elements": []}], "elements: 0, not between 1 and 25"),
        ([{"type": "context", "elements": []}], "elements: 0, not between 1 and 10"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": ""}]}],
            "elements[0].text: must be more than 0 characters",
        ),
        (
            [section(fields=[{"type": "mrkdwn", "text": "a"}, {"type": "mrkdwn", "text": ""}])],
            "fields[1].text: must be more than 0 characters",
        ),
        (
            actions(
                {
                    "type": "static_select",
                    "options": [{"text": {"type": "mrkdwn", "text": "*a*"}, "value": "a"}],
                }
            ),
            "options[0].text: must be of type plain_text",
        ),
        (
            [
                {
                    "type": "input",
                    "label": {"type": "mrkdwn", "text": "*Qty*"},
                    "element": {"type": "plain_text_input"},
                }
            ],
            "label: must be of type plain_text",
        ),
        (
            actions({"type": "button", "text": plain("Delete"), "confirm": {"title": plain("t")}}),
            "confirm.text: missing",
        ),
    ],
)
def test_text_objects_are_as_slack_takes_them(blocks, problem):
    """Slack refuses an empty text ("must be more than 0 characters"), a bare string where a
    text object goes, mrkdwn where only plain_text goes (headers, buttons, labels, a select's
    options), and actions or context blocks without elements. The stand-in checked only the
    lengths, so a message Slack refuses with invalid_blocks passed here."""
    found = message_problems(blocks)
    assert any(problem in p for p in found), found


def test_checkbox_options_may_be_mrkdwn():
    element = {
        "type": "checkboxes",
        "options": [{"text": {"type": "mrkdwn", "text": "*a*"}, "value": "a"}],
    }
    assert message_problems(actions(element)) == []


def test_bodies_and_headers_slack_cannot_read_are_refused(slack):
    """Every method's page on docs.slack.dev lists invalid_json, json_not_object,
    invalid_post_type and missing_post_type; a JSON call's token goes only in the
    Authorization header, as ``Bearer <token>``. The stand-in answered a sandbox error
    (HTTP 500) to a body it could not parse and read a token from anywhere."""
    url = f"{slack.api_url}chat.postMessage"

    def post(**kwargs) -> dict:
        answer = httpx.post(url, **kwargs)
        assert answer.status_code == 200
        return answer.json()

    json_type = {"Content-Type": "application/json", **TOKEN}
    assert post(content=b"{not json", headers=json_type)["error"] == "invalid_json"
    assert post(content=b"[1, 2]", headers=json_type)["error"] == "json_not_object"
    assert post(content=b"channel=C1", headers={"Content-Type": "text/plain", **TOKEN})[
        "error"
    ] == ("invalid_post_type")
    body = {"channel": "C1", "text": "x", "token": "xoxb-sandbox"}
    assert post(json=body)["error"] == "not_authed", "a JSON body's token is not read"
    assert post(data=body)["ok"], "a form's token is"
    no_scheme = {"Authorization": "xoxb-sandbox"}
    assert post(json={"channel": "C1", "text": "x"}, headers=no_scheme)["error"] == "not_authed"
    lower = {"Authorization": "bearer xoxb-sandbox"}
    assert post(json={"channel": "C1", "text": "x"}, headers=lower)["ok"]


def test_arguments_of_the_wrong_shape_are_refused(slack):
    assert call(slack, "chat.postMessage", channel="C1", text="x", blocks="[oops")["error"] == (
        "invalid_blocks_format"
    )
    assert call(slack, "chat.postMessage", channel="C1", text="x", blocks=[["a"]])["error"] == (
        "invalid_blocks_format"
    )
    assert call(slack, "chat.postMessage", channel="C1", text="x", metadata="{oops")["error"] == (
        "invalid_metadata_format"
    )
    trigger = slack.issue_trigger("t.shape")
    assert call(slack, "views.open", trigger_id=trigger, view="{oops")["error"] == (
        "invalid_arguments"
    )
    answer = call(slack, "chat.postEphemeral", channel="C1", text="x")
    assert answer["error"] == "invalid_arguments"
    assert "user" in answer["response_metadata"]["messages"][0]
    assert call(slack, "chat.postEphemeral", channel="C1", user="U1", text="x")["ok"]
    home = {"type": "home", "blocks": [section()]}
    assert call(slack, "views.publish", view=home)["error"] == "invalid_arguments"
    assert call(slack, "views.publish", user_id="U1", view=home)["ok"]
    upload = call(slack, "files.getUploadURLExternal", filename="a.csv")
    assert upload["response_metadata"]["messages"] == ["[ERROR] missing required field: length"]
    assert call(slack, "files.completeUploadExternal", channel_id="C1")["error"] == (
        "invalid_arguments"
    )


def test_a_response_url_refuses_what_a_message_may_not_be(slack):
    """Slack's webhook errors: a body that is not a JSON object is invalid_payload, an answer
    with neither text nor blocks no_text (deleting the original needs neither)."""
    url = slack.issue_response_url("shape", "C1")
    assert httpx.post(url, content=b"{oops").text == "invalid_payload"
    assert httpx.post(url, json={"response_type": "ephemeral"}).text == "no_text"
    assert httpx.post(url, json={"text": "x", "blocks": "oops"}).text == "invalid_blocks"
    assert [error for _, error in slack.refused_responses] == [
        "invalid_payload",
        "no_text",
        "invalid_blocks",
    ]
    assert httpx.post(url, json={"delete_original": True}).status_code == 200


def test_rate_limits_answer_429_with_retry_after_as_slack_does(slack):
    """docs.slack.dev rate limits: over a limit Slack answers HTTP 429, Retry-After in
    seconds and error ratelimited; posting is one message a second per channel, chat.update
    Tier 3 (50 a minute), and a non-Marketplace app's history calls once a minute with at most
    15 messages. The stand-in had no limits but injected faults."""
    from datetime import UTC, datetime

    from stockpot.sandbox.slack_limits import RateLimits

    slack.clock.set(datetime(2026, 3, 14, 12, 0, 0, 500_000, tzinfo=UTC))
    slack.rate_limits = RateLimits(unlisted=True)
    url = f"{slack.api_url}chat.postMessage"
    first = httpx.post(url, json={"channel": "C1", "text": "a"}, headers=TOKEN)
    assert first.status_code == 200 and first.json()["ok"]
    over = httpx.post(url, json={"channel": "C1", "text": "b"}, headers=TOKEN)
    assert over.status_code == 429
    assert over.json() == {"ok": False, "error": "ratelimited"}
    assert over.headers["Retry-After"] == "1"
    assert call(slack, "chat.postMessage", channel="C2", text="c")["ok"], "per channel"
    slack.clock.advance(timedelta(seconds=1))
    assert call(slack, "chat.postMessage", channel="C1", text="d")["ok"]

    ts = call(slack, "chat.postMessage", channel="C3", text="e")["ts"]
    for _ in range(50):
        assert call(slack, "chat.update", channel="C3", ts=ts, text="f")["ok"]
    updated = httpx.post(
        f"{slack.api_url}chat.update", json={"channel": "C3", "ts": ts, "text": "g"}, headers=TOKEN
    )
    assert updated.status_code == 429 and int(updated.headers["Retry-After"]) == 59

    for n in range(20):
        slack.clock.advance(timedelta(seconds=1))
        call(slack, "chat.postMessage", channel="C4", text=f"m{n}")
    page = call(slack, "conversations.history", channel="C4", limit=200)
    assert len(page["messages"]) == 15 and page["has_more"]
    assert call(slack, "conversations.history", channel="C4")["error"] == "ratelimited"
    slack.clock.advance(timedelta(minutes=1))
    cursor = page["response_metadata"]["next_cursor"]
    rest = call(slack, "conversations.history", channel="C4", limit=200, cursor=cursor)
    assert len(rest["messages"]) == 5 and not rest["has_more"]


def test_users_info_answers_as_slack_does_for_people_bots_deactivated_and_strangers(slack):
    """users.info's page on docs.slack.dev: the user object with ``team_id``, ``deleted`` and
    ``is_bot``; ``user_not_found`` for an id Slack does not know, and for a user of another
    workspace unless a channel is shared with it (Slack Connect)."""
    slack.add_user("UCOOK", "cook")
    slack.add_user("UAPP", "deploys", is_bot=True)
    slack.add_user("UGONE", "gone", deleted=True)
    slack.add_user("UFAR", "far", team_id="T0999")
    slack.add_user("UNEAR", "near", team_id="T0998", connected=True)
    cook = call(slack, "users.info", user="UCOOK")["user"]
    assert (cook["team_id"], cook["is_bot"], cook["deleted"]) == ("T0001", False, False)
    assert call(slack, "users.info", user="UAPP")["user"]["is_bot"] is True
    assert call(slack, "users.info", user="UGONE")["user"]["deleted"] is True
    assert call(slack, "users.info", user="UNEAR")["user"]["team_id"] == "T0998"
    for unknown in ("UFAR", "UNOBODY", ""):
        assert call(slack, "users.info", user=unknown) == {"ok": False, "error": "user_not_found"}
    slack.install("xoxb-narrow", ["commands", "chat:write"])
    assert call(slack, "users.info", {"Authorization": "Bearer xoxb-narrow"}, user="UCOOK") == {
        "ok": False,
        "error": "missing_scope",
        "needed": "users:read",
        "provided": "chat:write,commands",
    }


def test_a_post_to_a_person_lands_in_the_apps_dm_and_is_edited_there_only(slack):
    """``chat.postMessage`` to a user id posts in the app's DM with them and answers the
    DM's ``D…`` id (``conversations.open`` gives the same one); ``chat.update`` takes only
    that id: the user id is ``channel_not_found``, as ``chat.update``'s page says."""
    slack.add_user("U1", "uno")
    posted = call(slack, "chat.postMessage", channel="U1", text="hello")
    dm = posted["channel"]
    assert dm.startswith("D")
    assert call(slack, "conversations.open", users="U1")["channel"]["id"] == dm
    assert slack.workspace.message(posted["ts"]).channel == dm
    assert call(slack, "chat.update", channel="U1", ts=posted["ts"], text="x") == {
        "ok": False,
        "error": "channel_not_found",
    }
    assert call(slack, "conversations.history", channel="U1")["error"] == "channel_not_found"
    assert call(slack, "chat.update", channel=dm, ts=posted["ts"], text="edited")["ok"]
    assert slack.workspace.message(posted["ts"]).text == "edited"
    # Someone Slack does not know has no DM.
    assert call(slack, "chat.postMessage", channel="UNOBODY", text="x")["error"] == (
        "channel_not_found"
    )
    assert call(slack, "conversations.open", users="UNOBODY")["error"] == "user_not_found"
    assert call(slack, "conversations.open")["error"] == "users_list_not_supplied"
    assert call(slack, "conversations.open", channel=dm)["channel"]["id"] == dm


def test_an_ephemeral_message_is_shown_only_to_someone_in_the_channel(slack):
    """``user_not_in_channel``: the person left the channel (or, in a DM, is not its user);
    an archived channel is ``is_archived`` (``chat.postEphemeral``'s page lists both)."""
    slack.add_user("U1", "uno")
    assert call(slack, "chat.postEphemeral", channel="C1", user="U2", text="x")["ok"]
    slack.leave("C1", "U2")
    assert call(slack, "chat.postEphemeral", channel="C1", user="U2", text="x") == {
        "ok": False,
        "error": "user_not_in_channel",
    }
    dm = call(slack, "conversations.open", users="U1")["channel"]["id"]
    assert call(slack, "chat.postEphemeral", channel=dm, user="U2", text="x")["error"] == (
        "user_not_in_channel"
    )
    assert call(slack, "chat.postEphemeral", channel=dm, user="U1", text="x")["ok"]
    slack.archive("C2")
    assert call(slack, "chat.postEphemeral", channel="C2", user="U1", text="x")["error"] == (
        "is_archived"
    )


def test_missing_scope_names_every_scope_that_would_do(slack):
    """A method that takes any of several scopes is refused naming them all, comma-separated
    (``provided`` likewise lists the install's)."""
    slack.install("xoxb-sandbox", ["chat:write"])
    answer = call(slack, "conversations.info", channel="C1")
    assert answer["needed"] == "channels:read,groups:read,im:read,mpim:read"
    assert answer["provided"] == "chat:write"


def test_more_than_100_attachments_are_too_many(slack):
    attachments = [{"text": "a"}] * 101
    answer = call(slack, "chat.postMessage", channel="C1", text="x", attachments=attachments)
    assert answer["error"] == "too_many_attachments"
    assert call(slack, "chat.postMessage", channel="C1", text="x", attachments=attachments[:100])[
        "ok"
    ]
