"""What `syncbot run` serves to clients over HTTP (SPEC §9): GET /c/<token>, the client page,
and GET /c/<token>/trend.png, its trend chart. A thin adapter: the app decides what a token
opens (`app.Syncbot.page`, `page_chart`); this module parses the path and sets the headers.

Every answer carries `Cache-Control: no-store`, `Referrer-Policy: no-referrer` (the token is
in the URL: no link on the page may pass it on), `X-Robots-Tag: noindex`, a restrictive
Content-Security-Policy (`render.page.content_security_policy`: no scripts, no frames, only
the page's own stylesheet and same-origin images), `X-Content-Type-Options: nosniff` and
`X-Frame-Options: DENY`. An unknown, expired or revoked token, a malformed path and a client
no longer configured all get the same 404 page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from syncbot.app import Syncbot

logger = logging.getLogger(__name__)
PAGES_PREFIX = "/c/"
CHART_NAME = "trend.png"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STATUS = {200: "200 OK", 404: "404 Not Found", 405: "405 Method Not Allowed", 500: "500 Error"}


def security_headers() -> list[tuple[str, str]]:
    from syncbot.render.page import content_security_policy

    return [
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Robots-Tag", "noindex, nofollow"),
        ("Content-Security-Policy", content_security_policy()),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
    ]


class ClientPages:
    """The WSGI app mounted at PAGES_PREFIX."""

    def __init__(self, app: Syncbot) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD") or "GET"
        path = environ.get("PATH_INFO") or ""
        if method not in ("GET", "HEAD"):
            return self._answer(start_response, 405, b"use GET\n", "text/plain; charset=utf-8")
        token, _, rest = path.removeprefix(PAGES_PREFIX).partition("/")
        if not _TOKEN.fullmatch(token) or rest not in ("", CHART_NAME):
            return self._not_found(start_response)
        try:
            if rest == CHART_NAME:
                png = self.app.page_chart(token)
                if png is None:
                    return self._not_found(start_response)
                body, kind = png, "image/png"
            else:
                html = self.app.page(token, chart_url=f"{token}/{CHART_NAME}")
                if html is None:
                    return self._not_found(start_response)
                body, kind = html.encode(), "text/html; charset=utf-8"
        except Exception:
            logger.exception("client page failed", extra={"job": "page"})
            return self._answer(
                start_response, 500, b"internal error\n", "text/plain; charset=utf-8"
            )
        return self._answer(start_response, 200, body, kind)  # waitress drops it for HEAD

    def _not_found(self, start_response: StartResponse) -> list[bytes]:
        from syncbot.render.page import not_found_page

        return self._answer(
            start_response, 404, not_found_page().encode(), "text/html; charset=utf-8"
        )

    @staticmethod
    def _answer(start_response: StartResponse, status: int, body: bytes, kind: str) -> list[bytes]:
        start_response(
            _STATUS[status],
            [("Content-Type", kind), ("Content-Length", str(len(body))), *security_headers()],
        )
        return [body]
