"""The layout is the architecture: the layers declared in pyproject.toml hold (and the check would
catch an upward import), there are no import cycles, and no module grows past a readable size."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "realtime_cli"
LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_layer_contract_is_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward", "contract"),
    [
        # the protocol core reaching up into the console: the cycle this layout removed
        ("protocol/create_grammar.py", "from realtime_cli.console import actions", "layers"),
        # the local server importing the client
        ("server/model.py", "from realtime_cli.session import client", "the local server"),
        # typer outside cli/
        ("render/rows.py", "import typer", "one place per outside library"),
    ],
)
def test_an_upward_import_breaks_the_check(
    tmp_path: Path, module: str, upward: str, contract: str
) -> None:
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copytree(PACKAGE, copy / "realtime_cli", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "realtime_cli" / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout


def test_no_import_cycles_anywhere_in_the_package() -> None:
    graph = grimp.build_graph("realtime_cli")
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = [(a, b) for a in edges for b in edges[a] if reaches(b, a)]
    assert cycles == []


def test_no_module_is_past_a_readable_size() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 440} == {}
