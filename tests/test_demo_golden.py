"""`syncbot demo` prints exactly the pinned output (tests/golden/demo.txt): the proof that a
refactoring changed no behaviour. Timings and paths are the only things normalised.

After a deliberate change of what syncbot says, regenerate and review the diff:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_demo_golden.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support.cli import run

GOLDEN = Path(__file__).parent / "golden" / "demo.txt"
ROOT = Path(__file__).resolve().parents[1]


def normalised(text: str, cwd: Path) -> str:
    text = re.sub(r"in \d+\.\d\d s;", "in 0.00 s;", text)
    text = text.replace(str(cwd), "<cwd>").replace(str(ROOT), "<repo>")
    return re.sub(r"(SYNCBOT_DATABASE_URL=\S+ )\S+( -m syncbot)?", r"\1<syncbot>", text)


def test_demo_output_is_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(["demo"])
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    found = normalised(result.out, tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(found, encoding="utf-8")
    assert found == GOLDEN.read_text(encoding="utf-8")
    # The database lives in the working tree, where `make clean` removes it.
    assert (tmp_path / ".syncbot" / "demo.sqlite3").is_file()
