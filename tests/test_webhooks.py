"""POST /webhooks/jira and /webhooks/linear on the real WSGI server: signatures, what a
delivery marks, redeliveries, and the leader's watcher turning marks into incremental syncs
(coalesced) against the local Jira and Linear.

Deliveries are the recorded bodies under tests/payloads/webhooks (and the public Linear
samples in ../shared), signed here the way Jira and Linear sign them. The watcher's clock is a
counter the test moves; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scenario import jira_issue, write_pages
from servers.jira import EMAIL, TOKEN, FakeJira, at
from servers.linear import API_KEY, FakeLinear, utc
from servers.shared import require_shared
from support import configs

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.daemon.dirty import DirtyWatcher
from syncbot.run import Runtime
from syncbot.settings import Settings
from syncbot.store import Store
from syncbot.web import HttpServer
from syncbot.webhooks import Delivery, concerned, jira_delivery, linear_delivery

PAYLOADS = Path(__file__).parent / "payloads" / "webhooks"
JIRA_SECRET = "jira-webhook-secret-0123"
LINEAR_SECRET = "lin_wh_secret_0123456789"
NOW = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)
CLIENTS = (
    configs.client("acme", sources=[configs.source("jira", project="ACME")]),
    configs.client("beta", sources=[configs.source("jira", jql="project = BETA")]),
    configs.client("glx", sources=[configs.source("linear", team="ENG")]),
    configs.client(
        "gamma", sources=[configs.source("linear", project="Other Project")]
    ),  # another project: never marked by ENG-7
    configs.client("delta", sources=[configs.source("jira-export", path="delta/*.json")]),
)


def write_project(folder: Path) -> Path:
    write_pages(folder / "delta", [{"issues": [jira_issue("DELTA-1", summary="Delta")]}])
    return configs.write_config(folder / "syncbot.toml", *CLIENTS)


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def jira_headers(
    body: bytes, *, delivery: str = "d-1", secret: str = JIRA_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={digest}",
        "X-Atlassian-Webhook-Identifier": delivery,
        "X-Atlassian-Webhook-Flow": "Primary",
    }


def linear_body(raw: bytes, at: dt.datetime = NOW) -> bytes:
    doc = json.loads(raw)
    doc["webhookTimestamp"] = int(at.timestamp() * 1000)
    return json.dumps(doc).encode()


def linear_headers(
    body: bytes, *, delivery: str = "ld-1", secret: str = LINEAR_SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Linear-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Linear-Delivery": delivery,
        "Linear-Event": "Issue",
    }


@dataclass
class Hooks:
    url: str
    app: Syncbot
    jira: FakeJira
    linear: FakeLinear

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, float]:
        started = time.monotonic()
        request = urllib.request.Request(self.url + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        return status, json.loads(text), time.monotonic() - started

    def watcher(self, ticks: list[float]) -> DirtyWatcher:
        return DirtyWatcher(
            self.app,
            lambda client_id, names: self.app.sync(client_id, sources=names),
            clock=lambda: ticks[0],
        )


def serve(tmp_path: Path, **settings: Any) -> Iterator[Hooks]:
    config = write_project(tmp_path)
    with FakeJira("cloud", projects=("ACME", "BETA")) as jira, FakeLinear() as linear:
        jira.add("ACME-11", updated=at(2026, 3, 2, 10), epic="ACME-10")
        linear.add("ENG-7", updated=utc(2026, 3, 2, 16), project="Globex Rollout")
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'state.db'}",
            "jira_url": jira.url,
            "jira_email": EMAIL,
            "jira_token": TOKEN,
            "linear_api_url": linear.api_url,
            "linear_api_key": API_KEY,
            "slack_signing_secret": "slack-secret",
            "jira_webhook_secret": JIRA_SECRET,
            "linear_webhook_secret": LINEAR_SECRET,
            "source_retries": 0,
            **settings,
        }
        values = {k: v for k, v in values.items() if v is not None}
        settings_obj = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        store = Store(settings_obj.resolved_database_url())
        app = Syncbot(load_config(config), settings_obj, store, lambda: NOW)
        runtime = Runtime(app, settings_obj)
        server = HttpServer(runtime.router, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Hooks(f"http://127.0.0.1:{server.port}", app, jira, linear)
        finally:
            server.close()
            thread.join(5)
            runtime.close()
            store.close()


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[Hooks]:
    yield from serve(tmp_path)


# -- signatures ---------------------------------------------------------------------------------


def test_a_signed_jira_delivery_answers_200_within_a_second_and_marks_its_project(
    hooks: Hooks,
) -> None:
    body = payload("jira-issue-updated.json")
    status, answer, seconds = hooks.post("/webhooks/jira", body, jira_headers(body))
    assert (status, answer) == (200, {"ok": True, "sources": 2})
    assert seconds < 1.0
    # ACME's project source, and the JQL source (JQL cannot be evaluated on a delivery).
    assert hooks.app.dirty_sources() == {
        ("acme", "jira:ACME"): 1,
        ("beta", "jira:project = BETA"): 1,
    }
    assert hooks.jira.count() == 0  # nothing synced while answering


def test_a_signed_linear_delivery_marks_its_teams_source_only(hooks: Hooks) -> None:
    body = linear_body(payload("linear-issue-update.json"))
    status, answer, seconds = hooks.post("/webhooks/linear", body, linear_headers(body))
    assert (status, answer) == (200, {"ok": True, "sources": 1}) and seconds < 1.0
    assert hooks.app.dirty_sources() == {("glx", "linear:ENG"): 1}
    assert hooks.linear.count() == 0


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"X-Hub-Signature": None}, "no X-Hub-Signature"),
        ({"X-Hub-Signature": "sha256=" + "0" * 64}, "does not match"),
        ({"X-Hub-Signature": "sha1=0123abcd"}, "only sha256"),
        ({"X-Hub-Signature": "0123abcd"}, "not method=signature"),
        ({"secret": "another-secret"}, "does not match"),
    ],
)
def test_jira_bad_or_missing_signatures_get_401_logged_without_the_body(
    hooks: Hooks, caplog: pytest.LogCaptureFixture, change: dict[str, Any], why: str
) -> None:
    body = payload("jira-issue-updated.json")
    headers = jira_headers(body, secret=change.get("secret", JIRA_SECRET))
    for name, value in change.items():
        if name == "X-Hub-Signature":
            headers.pop(name)
            if value is not None:
                headers[name] = value
    with caplog.at_level(logging.WARNING):
        status, answer, _ = hooks.post("/webhooks/jira", body, headers)
    assert (status, answer) == (401, {"error": "invalid request"})
    assert hooks.app.dirty_sources() == {}
    [record] = [r for r in caplog.records if "rejected POST /webhooks/jira" in r.getMessage()]
    assert why in record.getMessage()
    assert "Ingest the raw claims" not in caplog.text and JIRA_SECRET not in caplog.text


@pytest.mark.parametrize(
    ("at", "headers", "why"),
    [
        (NOW, {"Linear-Signature": None}, "no Linear-Signature"),
        (NOW, {"Linear-Signature": "00" * 32}, "does not match"),
        (NOW - dt.timedelta(seconds=61), {}, "61 s old"),
        (NOW + dt.timedelta(seconds=61), {}, "61 s in the future"),
    ],
)
def test_linear_bad_signature_or_a_timestamp_over_60_s_off_gets_401(
    hooks: Hooks,
    caplog: pytest.LogCaptureFixture,
    at: dt.datetime,
    headers: dict[str, str | None],
    why: str,
) -> None:
    body = linear_body(payload("linear-issue-update.json"), at)
    sent = linear_headers(body)
    for name, value in headers.items():
        sent.pop(name)
        if value is not None:
            sent[name] = value
    with caplog.at_level(logging.WARNING):
        status, _, _ = hooks.post("/webhooks/linear", body, sent)
    assert status == 401 and hooks.app.dirty_sources() == {}
    assert why in caplog.text and "Label the validation set" not in caplog.text


def test_linear_within_60_s_is_accepted(hooks: Hooks) -> None:
    body = linear_body(payload("linear-issue-update.json"), NOW - dt.timedelta(seconds=59))
    assert hooks.post("/webhooks/linear", body, linear_headers(body))[0] == 200


def test_a_redelivery_is_processed_once(hooks: Hooks) -> None:
    body = payload("jira-issue-updated.json")
    first = hooks.post("/webhooks/jira", body, jira_headers(body, delivery="same-id"))
    again = hooks.post("/webhooks/jira", body, jira_headers(body, delivery="same-id"))
    other = hooks.post("/webhooks/jira", body, jira_headers(body, delivery="next-id"))
    assert [r[:2] for r in (first, again, other)] == [
        (200, {"ok": True, "sources": 2}),
        (200, {"ok": True, "duplicate": True}),
        (200, {"ok": True, "sources": 2}),
    ]
    assert hooks.app.dirty_sources()[("acme", "jira:ACME")] == 2  # marked by two deliveries
    lbody = linear_body(payload("linear-issue-update.json"))
    assert hooks.post("/webhooks/linear", lbody, linear_headers(lbody, delivery="L"))[1] == {
        "ok": True,
        "sources": 1,
    }
    assert hooks.post("/webhooks/linear", lbody, linear_headers(lbody, delivery="L"))[1] == {
        "ok": True,
        "duplicate": True,
    }


def test_other_events_are_acknowledged_and_mark_nothing(hooks: Hooks) -> None:
    body = payload("jira-worklog-created.json")
    assert hooks.post("/webhooks/jira", body, jira_headers(body))[:2] == (
        200,
        {"ok": True, "sources": 0},
    )
    assert hooks.app.dirty_sources() == {}
    status, _, _ = hooks.post("/webhooks/jira", b"{not json", jira_headers(b"{not json"))
    assert status == 400 and hooks.app.dirty_sources() == {}


def test_without_its_secret_a_webhook_is_404_with_a_hint_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        for hooks in serve(tmp_path, jira_webhook_secret=None):
            body = payload("jira-issue-updated.json")
            for _ in range(2):
                status, _, _ = hooks.post("/webhooks/jira", body, jira_headers(body))
                assert status == 404
            assert hooks.app.dirty_sources() == {}
    hints = [r for r in caplog.records if "SYNCBOT_JIRA_WEBHOOK_SECRET is not set" in r.message]
    assert len(hints) == 1  # once, not per delivery


# -- from marks to syncs ------------------------------------------------------------------------


def test_the_watcher_syncs_marked_sources_incrementally_once_the_marks_settle(
    hooks: Hooks,
) -> None:
    for client in ("acme", "glx"):
        hooks.app.sync(client)  # the first, full syncs
    hooks.jira.reset_log()
    hooks.linear.reset_log()
    ticks = [0.0]
    watcher = hooks.watcher(ticks)
    body = payload("jira-issue-updated.json")
    hooks.post("/webhooks/jira", body, jira_headers(body))
    lbody = linear_body(payload("linear-issue-update.json"))
    hooks.post("/webhooks/linear", lbody, linear_headers(lbody))
    assert watcher.poll() == {}  # first sight: the burst may go on
    ticks[0] = 1.0
    assert watcher.poll() == {
        "acme": {"jira:ACME"},
        "beta": {"jira:project = BETA"},
        "glx": {"linear:ENG"},
    }
    assert hooks.app.dirty_sources() == {}
    # Incremental: one search each, asking for what changed since the stored cursor.
    [beta, acme] = sorted(
        str((r.json() if r.method == "POST" else {"jql": r.param("jql")})["jql"])
        for r in hooks.jira.log("/search/jql")
    )
    assert "updated >=" in acme and acme.startswith('project = "ACME"')
    assert beta.startswith("(project = BETA)")  # BETA's first sync: everything
    assert hooks.linear.count() == 1
    [query] = [r.json()["variables"]["filter"] for r in hooks.linear.log()]
    assert query["team"] == {"key": {"eq": "ENG"}} and "updatedAt" in query
    ticks[0] = 2.0
    assert watcher.poll() == {}  # nothing left


def test_a_burst_is_coalesced_into_at_most_two_syncs(hooks: Hooks) -> None:
    hooks.app.sync("acme")
    hooks.jira.reset_log()
    ticks = [0.0]
    syncs: list[frozenset[str]] = []
    body = payload("jira-issue-updated.json")

    def sync(client_id: str, names: frozenset[str]) -> None:
        if client_id != "acme":
            return
        syncs.append(names)
        if len(syncs) == 1:  # deliveries keep coming while the first sync runs
            for n in range(10):
                hooks.post("/webhooks/jira", body, jira_headers(body, delivery=f"late-{n}"))
        hooks.app.sync(client_id, sources=names)

    watcher = DirtyWatcher(hooks.app, sync, clock=lambda: ticks[0])
    for n in range(30):
        assert hooks.post("/webhooks/jira", body, jira_headers(body, delivery=f"b-{n}"))[0] == 200
        if n % 10 == 9:  # the watcher looks in the middle of the burst: not settled yet
            watcher.poll()
            ticks[0] += 0.5
    for _ in range(6):
        watcher.poll()
        ticks[0] += 1.0
    assert len(syncs) == 2
    assert hooks.jira.count("/search/jql") == 2  # one incremental search per sync


def test_marks_that_never_settle_are_synced_after_the_longest_wait(hooks: Hooks) -> None:
    ticks = [0.0]
    watcher = hooks.watcher(ticks)
    body = payload("jira-issue-updated.json")
    synced_at = []
    for n in range(12):
        hooks.post("/webhooks/jira", body, jira_headers(body, delivery=f"s-{n}"))
        if watcher.poll():
            synced_at.append(ticks[0])
        ticks[0] += 1.0
    assert synced_at and synced_at[0] <= 5.0  # MAX_WAIT_SECONDS after first seen


# -- what a delivery concerns (pure) ------------------------------------------------------------


def test_public_linear_samples_name_their_team() -> None:
    path = require_shared(
        "linear", "samples", "korosuke613-linear-kintone-sync__webhook_updateIssue.json"
    )
    delivery = linear_delivery(json.loads(path.read_text(encoding="utf-8")), "x")
    assert delivery.teams == {"KOR"} and delivery.issue == "KOR-11" and delivery.relevant
    comment = require_shared(
        "linear", "samples", "linear-linear__sdk_test_webhook_comment_create.json"
    )
    assert not linear_delivery(json.loads(comment.read_text(encoding="utf-8")), None).relevant


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (
            Delivery("jira", None, "jira:issue_created", projects=frozenset({"ACME"})),
            {"acme", "beta"},
        ),
        (Delivery("jira", None, "jira:issue_deleted", projects=frozenset({"ZZZ"})), {"beta"}),
        (Delivery("jira", None, "jira:issue_updated"), {"beta"}),
        (Delivery("jira", None, "sprint_started", relevant=False), set()),
        (Delivery("linear", None, "Issue update", teams=frozenset({"ENG"})), {"glx", "gamma"}),
        (
            Delivery(
                "linear",
                None,
                "Issue update",
                teams=frozenset({"OPS"}),
                project_names=frozenset({"Other Project"}),
            ),
            {"gamma"},
        ),
        (Delivery("linear", None, "Issue create"), set()),
    ],
)
def test_which_sources_a_delivery_concerns(
    tmp_path: Path, delivery: Delivery, expected: set[str]
) -> None:
    loaded = load_config(write_project(tmp_path))
    assert {c for c, _ in concerned(loaded.config.clients, delivery)} == expected


def test_a_jira_delivery_without_fields_falls_back_to_the_issue_key() -> None:
    delivery = jira_delivery(
        {"webhookEvent": "jira:issue_deleted", "issue": {"key": "acme-9"}}, "i"
    )
    assert delivery.projects == {"ACME"} and delivery.relevant
