"""A local stand-in for Slack's Web API (and response_url endpoints), on Slack's wire format.

`FakeSlack(...).start()` serves on 127.0.0.1 (OS-chosen port). Point a WebClient at
`api_url` (`base_url`); give slash commands `response_url(channel)`. It speaks what syncbot
uses, the way Slack does: auth.test (with the token's `x-oauth-scopes`), chat.postMessage,
chat.update, conversations.history (cursor pagination, `include_all_metadata`),
conversations.info (`is_member`, `is_archived`), the three steps of files_upload_v2
(files.getUploadURLExternal, a POST of the bytes to the upload URL it gave, then
files.completeUploadExternal, which shares the file in `channel_id` as a message carrying it,
the way Slack shows a file share in the history), answering HTTP 200 `{"ok": false, "error": ...}`
for API errors (invalid_auth, channel_not_found, not_in_channel, invalid_blocks,
msg_blocks_too_long, message_not_found), and it enforces Block Kit limits on what it is sent.
`apps.connections.open` (Socket Mode) answers only the app-level token given to
`socket_mode(app_token, socket)`, with a URL of that `FakeSocketMode` (tests/servers/
socket_mode.py); a bot token gets `not_allowed_token_type`, any other token `invalid_auth`.

Every request is logged (`requests`, from `FakeServer`), every API call parsed (`calls`), every
message kept per channel as posted and as updated. Faults (from `FakeServer.fault`) plus
helpers: `rate_limit` (429 with Retry-After), `server_error` (5xx), `accept_then_fail` (the
message is posted, then a 5xx is returned: Slack's outcome-unknown case), `refuse` (ok:false),
and `on_post` (run a hook after a post is accepted and before the answer, e.g. kill the caller;
`method="files.completeUploadExternal"` after a file is shared, `"upload"` after the bytes of
an upload arrived).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from servers.base import FakeServer, Request, Response

TOKEN = "xoxb-test-token"
SCOPES = (
    "chat:write",
    "commands",
    "channels:history",
    "groups:history",
    "channels:read",
    "groups:read",
)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BLOCK_CHARS = 13000  # bolt-js#2509: msg_blocks_too_long around 13.2k characters


class SocketUrls(Protocol):
    """What apps.connections.open needs of the Socket Mode server (`FakeSocketMode`)."""

    def new_url(self) -> str: ...


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Upload:
    """A file of files.getUploadURLExternal: its bytes once uploaded, shared once completed."""

    id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None
    title: str | None = None
    shared_in: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    versions: list[dict[str, Any]] = field(default_factory=list)  # every text/blocks it had
    files: list[Upload] = field(default_factory=list)  # a file share

    def as_api(self, *, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": "U0SYNCBOT",
            "bot_id": "B0SYNCBOT",
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
        }
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        if self.files:
            out["upload"] = True
            out["files"] = [
                {
                    "id": f.id,
                    "name": f.filename,
                    "title": f.title,
                    "mimetype": "image/png",
                    "filetype": "png",
                    "size": f.length,
                    "alt_txt": f.alt_txt,
                }
                for f in self.files
            ]
        return out


@dataclass
class ResponseUrlPost:
    channel: str
    payload: dict[str, Any]


class FakeSlack(FakeServer):
    def __init__(
        self,
        *,
        token: str = TOKEN,
        channels: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.token = token
        self.channels = set(channels) if channels is not None else None  # None: any exists
        self.not_in_channel: set[str] = set()
        self.archived: set[str] = set()
        self.scopes = list(SCOPES)  # the token's, in auth.test's x-oauth-scopes header
        self.clock = clock
        self.calls: list[ApiCall] = []
        self.messages: dict[str, list[Message]] = {}
        self.responses: list[ResponseUrlPost] = []
        self.last_call_message: Message | None = None
        self.uploads: dict[str, Upload] = {}
        # Slack shares files asynchronously: while set, a share is made but not yet shown
        # by conversations.history (`reveal_shares` ends it).
        self.shares_pending = False
        self._hidden: set[str] = set()  # ts of shares not shown yet
        self._last_ts = 0.0
        self.app_token: str | None = None  # the app-level token Socket Mode accepts
        self._socket_url: Callable[[], str] | None = None
        self._state = threading.RLock()
        self._answered = threading.Condition(self._state)

    # -- addresses ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, channel: str, n: int = 1) -> str:
        return f"{self.url}/commands/{channel}/{n}/secret-hook"

    def socket_mode(self, app_token: str, socket: SocketUrls) -> None:
        """Serve Socket Mode: `apps.connections.open` with `app_token` answers a new URL of
        `socket` (a started `FakeSocketMode`)."""
        with self._state:
            self.app_token = app_token
            self._socket_url = socket.new_url

    # -- faults ---------------------------------------------------------------------------

    def rate_limit(
        self, method: str = "chat.postMessage", *, retry_after: int = 1, times: int = 1
    ) -> None:
        self.fault(
            Response.json(
                429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            ),
            times=times,
            path=f"/api/{method}",
        )

    def refuse(self, method: str, error: str, *, times: int | None = 1) -> None:
        self.fault(
            Response.json(200, {"ok": False, "error": error}), times=times, path=f"/api/{method}"
        )

    def accept_then_fail(
        self, method: str = "chat.postMessage", *, status: int = 500, times: int = 1
    ) -> None:
        """Do the work (the message IS posted), then answer with a 5xx."""

        def answer(request: Request) -> Response:
            self.handle(request)
            return Response.text(status, "<html>upstream error</html>")

        self.fault(answer, times=times, path=f"/api/{method}")

    def on_post(
        self,
        hook: Callable[[Message], None],
        *,
        times: int = 1,
        method: str = "chat.postMessage",
    ) -> None:
        """After the next `times` accepted `method` calls (chat.postMessage, or
        files.completeUploadExternal: the file was shared; or "upload": its bytes arrived),
        run `hook` with the last message posted before answering."""

        def answer(request: Request) -> Response:
            response = self.handle(request)
            posted = self.last_call_message
            if posted is not None:
                hook(posted)
            return response

        path = "/upload/" if method == "upload" else f"/api/{method}"
        self.fault(answer, times=times, path=path)

    def on_post_to(
        self, channel: str, hook: Callable[[], None], *, posted: bool
    ) -> threading.Event:
        """Run `hook` at the first chat.postMessage to `channel` (other posts go through as
        usual), after the message is posted (`posted`) or instead of posting it (the answer
        is then a 500): a caller killed on either side of Slack taking the post. The event
        is set once the hook ran."""
        ran = threading.Event()

        def answer(request: Request) -> Response:
            if ran.is_set() or _params(request).get("channel") != channel:
                return self.handle(request)
            response = self.handle(request) if posted else Response.text(500, "gone")
            hook()
            ran.set()
            return response

        self.fault(answer, times=None, path="/api/chat.postMessage")
        return ran

    # -- what tests read ------------------------------------------------------------------

    def wait_for_responses(self, count: int, timeout: float = 10.0) -> list[ResponseUrlPost]:
        """Block until `count` response_url posts arrived (a condition, not a sleep loop)."""
        with self._answered:
            self._answered.wait_for(lambda: len(self.responses) >= count, timeout)
            return list(self.responses)

    def api_calls(self, method: str | None = None) -> list[ApiCall]:
        with self._state:
            return [c for c in self.calls if method is None or c.method == method]

    def reveal_shares(self) -> None:
        with self._state:
            self.shares_pending = False
            self._hidden.clear()

    def shared_files(self, channel: str | None = None) -> list[Upload]:
        """Files shared in a channel (each once per share), in order."""
        return [f for m in self.posts(channel) for f in m.files]

    def posts(self, channel: str | None = None) -> list[Message]:
        """Messages posted (once each, in order), optionally to one channel."""
        with self._state:
            return [
                m
                for ch, msgs in sorted(self.messages.items())
                for m in msgs
                if channel is None or ch == channel
            ]

    def sent_to(self, channel: str) -> str:
        """Everything syncbot made visible in `channel`, by any path: posted messages, every
        version after chat.update, and response_url answers to commands typed there."""
        with self._state:
            parts = [
                json.dumps(
                    m.as_api(with_metadata=True) | {"metadata": m.metadata}, ensure_ascii=False
                )
                for m in self.messages.get(channel, [])
            ]
            parts += [
                json.dumps(v, ensure_ascii=False)
                for m in self.messages.get(channel, [])
                for v in m.versions
            ]
            parts += [
                json.dumps(r.payload, ensure_ascii=False)
                for r in self.responses
                if r.channel == channel
            ]
        return "\n".join(parts)

    # -- the API --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/commands/"):
            channel = request.path.split("/")[2]
            with self._answered:
                self.responses.append(ResponseUrlPost(channel, request.json()))
                self._answered.notify_all()
            return Response.text(200, "ok")
        if request.path.startswith("/upload/v1/"):
            return self._upload(request)
        if not request.path.startswith("/api/"):
            return Response.text(404, "not found")
        method = request.path[len("/api/") :]
        params = _params(request)
        auth = request.header("authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        with self._state:
            self.calls.append(ApiCall(method, params, token))
        if method == "api.test":
            return _ok({"args": params})
        if method == "apps.connections.open":  # the app-level token, not the bot token
            return self._apps_connections_open(token)
        if token != self.token:
            return _error("not_authed" if not token else "invalid_auth")
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        result: Response = handler(params)
        return result

    def _auth_test(self, params: dict[str, Any]) -> Response:
        answer = _ok(
            {
                "url": "https://fake.slack.test/",
                "team": "Fake",
                "user": "syncbot",
                "team_id": "T0FAKE",
                "user_id": "U0SYNCBOT",
                "bot_id": "B0SYNCBOT",
            }
        )
        answer.headers["x-oauth-scopes"] = ",".join(self.scopes)  # as Slack sends them
        return answer

    def _conversations_info(self, params: dict[str, Any]) -> Response:
        channel = str(params.get("channel") or "")
        if not channel or (self.channels is not None and channel not in self.channels):
            return _error("channel_not_found")
        if not {"channels:read", "groups:read"} & set(self.scopes):
            return _error("missing_scope")
        return _ok(
            {
                "channel": {
                    "id": channel,
                    "name": f"channel-{channel.lower()}",
                    "is_channel": True,
                    "is_private": False,
                    "is_archived": channel in self.archived,
                    "is_member": channel not in self.not_in_channel,
                    "is_ext_shared": False,
                }
            }
        )

    def _apps_connections_open(self, token: str | None) -> Response:
        with self._state:
            app_token, new_url = self.app_token, self._socket_url
        if not token:
            return _error("not_authed")
        if app_token is not None and new_url is not None and token == app_token:
            return _ok({"url": new_url()})
        if token == self.token:
            return _error("not_allowed_token_type")  # a bot token where an xapp- one goes
        return _error("invalid_auth")

    def _chat_postMessage(self, params: dict[str, Any]) -> Response:
        channel = str(params.get("channel") or "")
        problem = self._channel_problem(channel)
        if problem:
            return _error(problem)
        blocks = _json_param(params.get("blocks")) or []
        text = str(params.get("text") or "")
        if not blocks and not text:
            return _error("no_text")
        problem = _block_problem(blocks)
        if problem:
            return _error(problem)
        metadata = _json_param(params.get("metadata"))
        with self._state:
            ts = self._next_ts()
            message = Message(channel, ts, text, blocks, metadata)
            self.messages.setdefault(channel, []).append(message)
            self.last_call_message = message
        return _ok({"channel": channel, "ts": ts, "message": message.as_api(with_metadata=True)})

    def _chat_update(self, params: dict[str, Any]) -> Response:
        channel = str(params.get("channel") or "")
        problem = self._channel_problem(channel)
        if problem:
            return _error(problem)
        blocks = _json_param(params.get("blocks")) or []
        problem = _block_problem(blocks)
        if problem:
            return _error(problem)
        with self._state:
            for message in self.messages.get(channel, []):
                if message.ts == params.get("ts"):
                    message.text = str(params.get("text") or "")
                    message.blocks = blocks
                    message.versions.append({"text": message.text, "blocks": blocks})
                    return _ok({"channel": channel, "ts": message.ts, "text": message.text})
        return _error("message_not_found")

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> Response:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            return _error("invalid_arguments")
        if not filename or length <= 0:
            return _error("invalid_arguments")
        with self._state:
            file_id = f"F{len(self.uploads) + 1:09d}"
            self.uploads[file_id] = Upload(file_id, filename, length, params.get("alt_txt"))
        return _ok({"upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id})

    def _upload(self, request: Request) -> Response:
        """The POST of a file's bytes to the URL files.getUploadURLExternal gave."""
        file_id = request.path.rsplit("/", 1)[-1]
        with self._state:
            upload = self.uploads.get(file_id)
            if upload is None or request.method != "POST":
                return Response.text(404, "not found")
            if len(request.body) != upload.length:
                return Response.text(400, "length mismatch")
            upload.data = request.body
        return Response.text(200, f"OK - {len(request.body)}")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> Response:
        files = _json_param(params.get("files")) or []
        channel = params.get("channel_id")
        if channel:
            problem = self._channel_problem(str(channel))
            if problem:
                return _error(problem)
        with self._state:
            found = [self.uploads.get(str(f.get("id"))) for f in files]
            if not found or any(u is None or u.data is None for u in found):
                return _error("file_not_found")
            shared = [u for u in found if u is not None]
            if any(u.title is not None for u in shared):  # completed already
                return _error("file_not_found")
            for upload, spec in zip(shared, files, strict=True):
                upload.title = str(spec.get("title") or upload.filename)
            if channel:
                ts = self._next_ts()
                text = str(params.get("initial_comment") or "")
                message = Message(str(channel), ts, text, [], None, files=shared)
                self.messages.setdefault(str(channel), []).append(message)
                if self.shares_pending:
                    self._hidden.add(ts)
                self.last_call_message = message
                for upload in shared:
                    upload.shared_in = str(channel)
        return _ok({"files": [{"id": u.id, "title": u.title, "name": u.filename} for u in shared]})

    def _conversations_history(self, params: dict[str, Any]) -> Response:
        channel = str(params.get("channel") or "")
        problem = self._channel_problem(channel)
        if problem:
            return _error(problem)
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 1e12)
        limit = min(int(params.get("limit") or 100), 999)
        start = int(params.get("cursor") or 0)
        metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._state:
            found = [
                m
                for m in reversed(self.messages.get(channel, []))
                if oldest < float(m.ts) <= latest and m.ts not in self._hidden
            ]
        page = found[start : start + limit]
        more = start + limit < len(found)
        return _ok(
            {
                "messages": [m.as_api(with_metadata=metadata) for m in page],
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        )

    def _channel_problem(self, channel: str) -> str | None:
        if not channel or (self.channels is not None and channel not in self.channels):
            return "channel_not_found"
        if channel in self.not_in_channel:
            return "not_in_channel"
        return None

    def _next_ts(self) -> str:
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"


def _ok(payload: dict[str, Any]) -> Response:
    return Response.json(200, {"ok": True, **payload})


def _error(code: str) -> Response:
    return Response.json(200, {"ok": False, "error": code})


def _params(request: Request) -> dict[str, Any]:
    """Query string, then a form or JSON body (slack_sdk sends both kinds)."""
    params: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    content_type = request.header("content-type") or ""
    if request.body and "json" in content_type:
        params.update(request.json())
    elif request.body:
        form = parse_qs(request.body.decode(), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    return params


def _json_param(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value


def _block_problem(blocks: list[dict[str, Any]]) -> str | None:
    """Slack's Block Kit limits (../shared/slack/BLOCK_KIT_LIMITS.md)."""
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    total = 0
    for block in blocks:
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "") if kind in ("section", "header") else ""
        if kind == "header" and len(text) > MAX_HEADER_TEXT:
            return "invalid_blocks"
        if kind == "section" and len(text) > MAX_SECTION_TEXT:
            return "invalid_blocks"
        if kind == "context":
            elements = block.get("elements") or []
            if len(elements) > 10:
                return "invalid_blocks"
            total += sum(len(e.get("text", "")) for e in elements)
        total += len(text)
    if total > MAX_BLOCK_CHARS:
        return "msg_blocks_too_long"
    return None
