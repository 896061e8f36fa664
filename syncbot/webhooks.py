"""Tracker webhooks: POST /webhooks/jira and POST /webhooks/linear.

A delivery is verified, read for what it concerns, and turned into marks on the matching
sources (`Syncbot.mark_dirty`, shared through the database), which the leading daemon syncs
within seconds (`daemon/dirty.py`). Nothing here syncs, so every daemon, leader or not,
answers at once.

**Verification** (over the raw body, `hmac.compare_digest`; a failure is 401, logged with its
reason and never the body):

- Jira (admin webhook with a secret): `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`
  keyed with SYNCBOT_JIRA_WEBHOOK_SECRET (WebSub's `method=signature`); any other method is
  refused.
- Linear: `Linear-Signature: <hex HMAC-SHA256 of the body>` keyed with
  SYNCBOT_LINEAR_WEBHOOK_SECRET, and the body's `webhookTimestamp` (ms) within 60 s of now, as
  Linear's SDK (`LinearWebhooks.verify`) checks.

Without its secret setting an endpoint answers 404 and logs (once) what to set.

**What a delivery concerns.** Jira: `jira:issue_*` events, by the issue's project key. Linear:
`Issue` events, by the issue's team key and project name. A source matches when the delivery
names something about it and contradicts none of its filters (a Linear source with a team and
a project needs both to agree; a delivery that names no project leaves a project filter
unjudged); a `jql` source matches every Jira issue event, since JQL cannot be evaluated here.
Other events are acknowledged and ignored.

**Once.** A redelivery (same X-Atlassian-Webhook-Identifier / Linear-Delivery) within a day
marks nothing: the id is stored with the marks, in one transaction, for every daemon to see.

**Within a second.** The marks are written in a worker thread; the answer waits for them up
to ANSWER_SECONDS (then 200, or 503 when the database refused, for the tracker to retry). A
database slower than that (SQLite busy with a long sync) gets a 200 at once and the marks
follow; should they then fail, the periodic sync covers the change.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from wsgiref.types import StartResponse, WSGIEnvironment

from syncbot.app import Syncbot
from syncbot.config import Client
from syncbot.errors import SyncbotError

logger = logging.getLogger(__name__)
JIRA_PATH = "/webhooks/jira"
LINEAR_PATH = "/webhooks/linear"
LINEAR_WINDOW_MS = 60_000
DELIVERY_WINDOW = dt.timedelta(days=1)  # how long a delivery id is remembered
ANSWER_SECONDS = 0.8
MAX_BODY = 1 << 20
Tracker = Literal["jira", "linear"]
SECRET_SETTING = {"jira": "SYNCBOT_JIRA_WEBHOOK_SECRET", "linear": "SYNCBOT_LINEAR_WEBHOOK_SECRET"}
_REASONS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    503: "503 Service Unavailable",
}


class Refused(Exception):
    """A delivery that is not accepted; `status` is the HTTP answer, the message the reason."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Delivery:
    """What one delivery is about (issue keys, projects, teams), never its content."""

    tracker: Tracker
    id: str | None
    event: str
    issue: str | None = None  # the issue key, for the log
    projects: frozenset[str] = field(default_factory=frozenset)  # Jira project keys
    teams: frozenset[str] = field(default_factory=frozenset)  # Linear team keys
    project_names: frozenset[str] = field(default_factory=frozenset)  # Linear project names
    relevant: bool = True  # an issue event

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.tracker, self.event, self.issue) if p)


# -- verification (pure) ----------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body` keyed with `secret`: what both trackers send."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(
        expected.encode(), given.strip().lower().encode("latin-1", "replace")
    )


def verify_jira(secret: str, header: str | None, body: bytes) -> None:
    """Refused unless `header` is `sha256=<hex HMAC of body>`."""
    if not header:
        raise Refused("no X-Hub-Signature (set the webhook's secret in Jira)")
    method, sep, digest = header.strip().partition("=")
    if not sep or not digest:
        raise Refused("X-Hub-Signature is not method=signature")
    if method.strip().lower() != "sha256":
        raise Refused(f"X-Hub-Signature method {method.strip()[:20]!r} refused: only sha256")
    if not _same(sign(secret, body), digest):
        raise Refused("X-Hub-Signature does not match SYNCBOT_JIRA_WEBHOOK_SECRET")


def verify_linear(secret: str, header: str | None, body: bytes, now: dt.datetime) -> Any:
    """The parsed body, or Refused: a bad signature, or a webhookTimestamp over 60 s off."""
    if not header:
        raise Refused("no Linear-Signature")
    if not _same(sign(secret, body), header):
        raise Refused("Linear-Signature does not match SYNCBOT_LINEAR_WEBHOOK_SECRET")
    payload = _json(body)
    stamp = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        raise Refused("no webhookTimestamp in the body")
    off = now.timestamp() * 1000 - stamp
    if abs(off) > LINEAR_WINDOW_MS:
        when = "old" if off > 0 else "in the future"
        raise Refused(f"webhookTimestamp {abs(off) / 1000:.0f} s {when}: stale or replayed")
    return payload


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Refused("the body is not JSON", 400) from None


# -- what a delivery concerns (pure) ----------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _prefix(key: str | None) -> str | None:
    """The project/team part of an issue key (ACME-12 -> ACME)."""
    if not key or "-" not in key:
        return None
    head = key.rsplit("-", 1)[0]
    return head.upper() or None


def jira_delivery(payload: Any, delivery_id: str | None) -> Delivery:
    body = _obj(payload)
    event = _text(body.get("webhookEvent")) or "?"
    issue = _obj(body.get("issue"))
    key = _text(issue.get("key"))
    project = _text(_obj(_obj(issue.get("fields")).get("project")).get("key")) or _prefix(key)
    return Delivery(
        "jira",
        delivery_id,
        event[:60],
        issue=key[:40] if key else None,
        projects=frozenset({project.upper()} if project else ()),
        relevant=event.startswith("jira:issue_"),
    )


def linear_delivery(payload: Any, delivery_id: str | None) -> Delivery:
    body = _obj(payload)
    kind = _text(body.get("type")) or "?"
    data = _obj(body.get("data"))
    key = _text(data.get("identifier"))
    url = _text(body.get("url")) or ""
    if key is None and "/issue/" in url:
        key = _text(url.split("/issue/", 1)[1].split("/", 1)[0])
    team = _text(_obj(data.get("team")).get("key")) or _prefix(key)
    project = _text(_obj(data.get("project")).get("name"))
    action = _text(body.get("action")) or ""
    return Delivery(
        "linear",
        delivery_id,
        f"{kind} {action}".strip()[:60],
        issue=key[:40] if key else None,
        teams=frozenset({team.upper()} if team else ()),
        project_names=frozenset({project} if project else ()),
        relevant=kind == "Issue",
    )


def concerned(clients: Iterable[Client], delivery: Delivery) -> list[tuple[str, str]]:
    """The (client id, source name) pairs `delivery` concerns (see the module docstring)."""
    out: list[tuple[str, str]] = []
    if not delivery.relevant:
        return out
    for client in clients:
        for source in client.sources:
            if source.is_export or source.tracker != delivery.tracker:
                continue
            if _matches(source.project, source.team, source.jql, delivery):
                out.append((client.id, source.name))
    return out


def _matches(project: str | None, team: str | None, jql: str | None, d: Delivery) -> bool:
    if d.tracker == "jira":
        if jql:
            return True
        return bool(project and project.upper() in d.projects)
    named = False
    if team and d.teams:
        if team.upper() not in d.teams:
            return False
        named = True
    if project and d.project_names:
        if project not in d.project_names:
            return False
        named = True
    # A project-only source and a delivery naming a team but no project: cannot tell, sync.
    return named or bool(project and not team and d.teams)


# -- the WSGI app -----------------------------------------------------------------------------


class WebhookApp:
    """POST /webhooks/<tracker>: verify, read, mark (see the module docstring)."""

    def __init__(
        self,
        app: Syncbot,
        tracker: Tracker,
        secret: str | None,
        *,
        answer_seconds: float = ANSWER_SECONDS,
        pool: concurrent.futures.ThreadPoolExecutor | None = None,
    ) -> None:
        self.app = app
        self.tracker = tracker
        self.secret = secret
        self.answer_seconds = answer_seconds
        self.pool = pool or concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix=f"syncbot-webhook-{tracker}"
        )
        self._hinted = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, 405, {"error": "use POST"})
        if not self.secret:
            if not self._hinted:
                self._hinted = True
                logger.warning(
                    "POST %s refused (404): %s is not set; set it to the webhook's secret to "
                    "accept %s webhooks",
                    environ.get("PATH_INFO"),
                    SECRET_SETTING[self.tracker],
                    self.tracker.title(),
                )
            return _respond(start_response, 404, {"error": "not found"})
        try:
            delivery = self.read(environ)
        except Refused as exc:
            logger.warning(
                "rejected POST %s from %s: %s (body not logged)",
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR", "?"),
                exc,
            )
            return _respond(start_response, exc.status, {"error": "invalid request"})
        future = self.pool.submit(self.record, delivery)
        try:
            marked = future.result(timeout=self.answer_seconds)
        except concurrent.futures.TimeoutError:
            return _respond(start_response, 200, {"ok": True, "queued": True})
        except SyncbotError:
            return _respond(start_response, 503, {"error": "try again"})
        if marked is None:
            return _respond(start_response, 200, {"ok": True, "duplicate": True})
        return _respond(start_response, 200, {"ok": True, "sources": len(marked)})

    def read(self, environ: WSGIEnvironment) -> Delivery:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Refused("bad Content-Length", 400) from None
        if length > MAX_BODY:
            raise Refused("body too large", 413)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        assert self.secret is not None
        if self.tracker == "jira":
            verify_jira(self.secret, environ.get("HTTP_X_HUB_SIGNATURE"), body)
            payload = _json(body)
            return jira_delivery(payload, _text(environ.get("HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER")))
        payload = verify_linear(
            self.secret, environ.get("HTTP_LINEAR_SIGNATURE"), body, self.app.clock()
        )
        return linear_delivery(payload, _text(environ.get("HTTP_LINEAR_DELIVERY")))

    def record(self, delivery: Delivery) -> Sequence[tuple[str, str]] | None:
        """Mark the sources `delivery` concerns; None when it was a redelivery."""
        sources = concerned(self.app.clients, delivery)
        ids = (f"webhook-{delivery.tracker}", delivery.id) if delivery.id else None
        if not sources and ids is None:
            logger.info("webhook %s: concerns no configured source", delivery.label)
            return sources
        try:
            first = self.app.mark_dirty(sources, delivery=ids, window=DELIVERY_WINDOW)
        except SyncbotError as exc:
            logger.warning("webhook %s not recorded: %s", delivery.label, exc)
            raise
        if not first:
            logger.info("webhook %s: delivery %s seen before: ignored", delivery.label, delivery.id)
            return None
        if sources:
            logger.info(
                "webhook %s: %s marked for a sync",
                delivery.label,
                ", ".join(f"{c}/{s}" for c, s in sources),
            )
        else:
            logger.info("webhook %s: concerns no configured source", delivery.label)
        return sources

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _respond(start_response: StartResponse, status: int, doc: Any) -> list[bytes]:
    body = json.dumps(doc).encode()
    start_response(
        _REASONS.get(status, f"{status} Error"),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
