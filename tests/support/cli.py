"""Running the command line in-process, and the one "status as JSON" helper."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncbot.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


def run(args: Sequence[str]) -> Run:
    """`syncbot ARGS` in this process, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
    return Run(code, out.getvalue(), err.getvalue())


def ok(args: Sequence[str]) -> str:
    """Run a command that must succeed; its stdout."""
    result = run(args)
    assert result.code == 0, f"syncbot {' '.join(args)} exited {result.code}: {result.err}"
    assert "Traceback" not in result.err
    return result.out


def status_json(
    config: Path,
    client: str,
    *,
    audience: str = "internal",
    as_of: str | None = None,
) -> dict[str, Any]:
    """`syncbot status --format json` parsed."""
    args = ["status", "--config", str(config), "--client", client, "--format", "json"]
    args += ["--audience", audience]
    if as_of:
        args += ["--as-of", as_of]
    doc: dict[str, Any] = json.loads(ok(args))
    return doc
