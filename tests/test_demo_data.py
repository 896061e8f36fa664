"""The committed demo pages are exactly what `config/demo/generate.py` writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "config" / "demo"
FOLDERS = ("acme-jira", "globex-linear", "acme-mlflow", "globex-mlflow")


def files(root: Path) -> dict[str, bytes]:
    """Every file under root's demo folders, by path relative to root."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for folder in FOLDERS
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def test_generator_reproduces_the_committed_pages(tmp_path: Path) -> None:
    stale = tmp_path / "acme-jira" / "page-9.json"  # from an earlier, longer run
    stale.parent.mkdir()
    stale.write_text("{}", encoding="utf-8")
    old_runs = tmp_path / "acme-mlflow" / "runs-page-7.json"
    old_runs.parent.mkdir()
    old_runs.write_text("{}", encoding="utf-8")

    subprocess.run([sys.executable, str(DEMO / "generate.py"), str(tmp_path)], cwd=ROOT, check=True)

    committed, generated = files(DEMO), files(tmp_path)
    assert sorted(generated) == sorted(committed)  # no page missing, none extra
    assert len(committed) == 12  # 3 Jira and 3 Linear pages, 2 x 3 MLflow answers
    differing = [name for name, content in committed.items() if generated[name] != content]
    assert not differing, [
        f"{name}: {first_difference(committed[name], generated[name])}" for name in differing
    ]


def first_difference(committed: bytes, generated: bytes) -> str:
    pairs = zip(committed.splitlines(), generated.splitlines(), strict=False)
    for number, (old, new) in enumerate(pairs, start=1):
        if old != new:
            return f"line {number}: committed {old!r}, generated {new!r}"
    return f"committed {len(committed)} bytes, generated {len(generated)}"
