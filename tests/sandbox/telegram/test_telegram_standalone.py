"""The emulator stands alone: no gateway imports, and its command line serves the Bot API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import requests

import sandbox.telegram
from tests.serving import first_answer, free_port

PACKAGE = Path(sandbox.telegram.__file__).parent
REPO = PACKAGE.parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_emulator_imports_nothing_from_the_gateway():
    for path in PACKAGE.rglob("*.py"):
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in {"gateway", "adapters"}, f"{path.name} imports {name}"


def test_the_command_line_serves_get_me_with_the_given_token():
    port = free_port()
    token = "123456:TEST-token"
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "telegram", "--port", str(port), "--token", token],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/bot{token}/getMe"
        answer = first_answer(process, url, "the emulator", 20)
        assert answer.json()["result"]["id"] == 123456
        wrong = requests.get(f"http://127.0.0.1:{port}/bot1:x/getMe", timeout=2)
        assert wrong.status_code == 401
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_command_line_refuses_a_malformed_token():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "telegram", "--token", "nonsense"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--token" in result.stderr
