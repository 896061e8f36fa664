"""The /syncbot subcommands: every one, tenant isolation by channel, and sign-off authorization."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from scenario import CLIENT_SAFE, MARK
from slack_env import APPROVER, NOW, Env

from syncbot import messages
from syncbot.errors import ConfigError
from syncbot.slack.commands import Commands, Reply, SlashRequest

SUBCOMMANDS = ["status", "milestones", "blockers", "digest"]
INTERNAL_KEYS = ("MRK-1", "MRK-2", "MRK-3", "MRK-9", "MRK-100", "GLX-1", "GLX-2")


def ask(env: Env, text: str, channel: str, user: str = "U0SOMEONE") -> Reply:
    commands = Commands(env.app())
    return commands.handle(SlashRequest("/syncbot", text, channel, user))


def said(reply: Reply) -> str:
    return json.dumps(reply.messages, ensure_ascii=False)


@pytest.mark.parametrize("sub", SUBCOMMANDS)
@pytest.mark.parametrize(
    ("channel", "mine", "other"),
    [("CMRK", "Marker Corp", "Globex"), ("CGLX", "Globex", "Marker Corp")],
)
def test_client_channel_answers_about_its_client_only_in_the_client_view(
    env: Env, sub: str, channel: str, mine: str, other: str
) -> None:
    reply = ask(env, sub, channel)
    text = said(reply)
    assert mine in text and other not in text
    assert MARK not in text
    for key in INTERNAL_KEYS:
        assert key not in text
    assert not reply.public  # answers are for the asker
    if sub in ("blockers", "digest"):
        assert CLIENT_SAFE[0] in text and CLIENT_SAFE[1] in text  # written for the client


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_client_channel_ignores_arguments_naming_another_client(env: Env, sub: str) -> None:
    text = said(ask(env, f"{sub} glx", "CMRK"))
    assert "Globex" not in text and "Phase A" not in text and MARK not in text


@pytest.mark.parametrize("sub", ["status", "milestones", "blockers"])
def test_shared_internal_channel_shows_full_detail_for_each_of_its_clients(
    env: Env, sub: str
) -> None:
    text = said(ask(env, sub, "CINT"))
    assert "Marker Corp" in text and "Globex" in text
    if sub != "status":
        assert "MRK-9" in text or "1.1 Milestone one" in text
    narrowed = said(ask(env, f"{sub} mrk", "CINT"))
    assert "Marker Corp" in narrowed and "Globex" not in narrowed


def test_internal_blockers_show_keys_owners_and_what_they_block(env: Env) -> None:
    text = said(ask(env, "blockers mrk", "CINT"))
    # The key links to the ticket (derived from the issue's REST `self` link).
    assert "<https://example.atlassian.net/browse/MRK-9|MRK-9> Dependency summary" in text
    assert "2.1 Milestone two" in text and "(overdue)" in text


def test_digest_preview_in_a_shared_internal_channel_names_the_client(env: Env) -> None:
    assert said(ask(env, "digest", "CINT")) == json.dumps(
        [{"text": messages.slash_which_client("/syncbot", "digest", ["mrk", "glx"])}]
    )
    text = said(ask(env, "digest glx", "CINT"))
    assert "Globex — internal digest" in text and messages.DIGEST_PREVIEW in text
    assert MARK in text  # internal: everything, including the planted details
    assert "Marker Corp" not in text
    assert env.slack.api_calls() == []  # a preview posts nothing


def test_unknown_client_argument_in_an_internal_channel(env: Env) -> None:
    text = said(ask(env, "status acme", "CINT"))
    assert "`acme` is not a client served in this channel (here: mrk, glx)" in text


@pytest.mark.parametrize("text", ["", "help", "status", "digest", "signoff Deployment", "x"])
def test_any_other_channel_is_refused_without_naming_a_client(env: Env, text: str) -> None:
    reply = ask(env, text, "CRANDOM", user=APPROVER)
    assert reply.messages == ({"text": messages.NOT_A_PROJECT_CHANNEL},)
    assert env.store().signoffs.load("mrk") == []


def test_a_channel_that_is_two_clients_client_channel_is_refused(env: Env) -> None:
    env.config.write_text(
        env.config.read_text().replace('client_channel = "CGLX"', 'client_channel = "CMRK"')
    )
    # `syncbot check` and every command refuse such a config before anything can answer.
    with pytest.raises(ConfigError, match="one client would see another's project"):
        ask(env, "status", "CMRK")


def test_help_and_unknown_subcommands(env: Env) -> None:
    text = said(ask(env, "help", "CMRK"))
    for name, _ in messages.SUBCOMMANDS:  # `<phase>` is shown, escaped, not sent raw
        assert f"/syncbot {name}".replace("<", "&lt;").replace(">", "&gt;") in text
    assert "<phase>" not in text
    assert "several clients" not in text
    assert "several clients" in said(ask(env, "", "CINT"))
    unknown = said(ask(env, "<!channel> frob", "CMRK"))
    assert "&lt;!channel&gt;" in unknown and "<!channel>" not in unknown


def test_signoff_by_an_approver_in_the_clients_channel_is_recorded(env: Env) -> None:
    reply = ask(env, "signoff data   PREPARATION", "CMRK", user=APPROVER)
    assert reply.public
    before, after = messages.signoff_recorded("Data Preparation", dt.date(2026, 3, 10))
    assert reply.messages == ({"text": f"{before}<@{APPROVER}>{after}"},)
    [record] = env.store().signoffs.load("mrk")
    assert (record.client_id, record.phase, record.user_id, record.signed_at) == (
        "mrk",
        "Data Preparation",
        APPROVER,
        NOW,
    )
    again = ask(env, "signoff 'Data Preparation'", "CINT", user=APPROVER)
    assert "which one" in said(again)  # CINT serves two clients: name one
    again = ask(env, "signoff mrk Data Preparation", "CINT", user=APPROVER)
    before, after = messages.signoff_already("Data Preparation", dt.date(2026, 3, 10))
    assert said(again) == json.dumps([{"text": f"{before}<@{APPROVER}>{after}"}])
    assert len(env.store().signoffs.load("mrk")) == 1


@pytest.mark.parametrize(
    ("user", "channel", "expected"),
    [
        ("U0SOMEONE", "CMRK", messages.signoff_not_approver("Marker Corp")),
        ("U0SOMEONE", "CINT", messages.signoff_not_approver("Marker Corp")),
        (APPROVER, "CGLX", messages.signoff_not_approver("Globex")),  # not glx's approver
        (APPROVER, "CRANDOM", messages.NOT_A_PROJECT_CHANNEL),
    ],
    ids=["not-approver", "not-approver-internal", "other-clients-channel", "other-channel"],
)
def test_signoff_is_refused_to_anyone_else_or_anywhere_else(
    env: Env, user: str, channel: str, expected: str
) -> None:
    text = "signoff Deployment" if channel != "CINT" else "signoff mrk Deployment"
    assert ask(env, text, channel, user=user).messages == ({"text": expected},)
    assert env.store().signoffs.load("mrk") == [] and env.store().signoffs.load("glx") == []


def test_signoff_of_an_unknown_or_missing_phase_lists_the_phases(env: Env) -> None:
    text = said(ask(env, "signoff Launch party", "CMRK", user=APPROVER))
    assert "There is no phase called 'Launch party'" in text
    assert "'Data Preparation' and 'Deployment'" in text
    assert "Say which phase" in said(ask(env, "signoff", "CMRK", user=APPROVER))
    assert env.store().signoffs.load("mrk") == []


def test_sign_offs_feed_the_phase_gate(env: Env) -> None:
    env.edit_issue(
        "MRK-3", status={"name": "In Progress", "statusCategory": {"key": "indeterminate"}}
    )
    env.sync()

    def gate() -> list[str]:
        state = env.app().state("mrk", as_of=NOW.date())
        return [w.message for w in state.warnings if w.kind.value == "phase_gate"]

    assert gate() == [messages.phase_gate("Milestone two", "Deployment", "Data Preparation")]
    assert "phase_gate" in said(ask(env, "status mrk", "CINT"))
    assert "phase_gate" not in said(ask(env, "status", "CMRK"))  # internal warning only
    ask(env, "signoff Data Preparation", "CMRK", user=APPROVER)
    assert gate() == []
