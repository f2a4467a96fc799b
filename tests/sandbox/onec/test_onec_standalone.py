"""The emulator stands alone: it imports nothing from the gateway or its adapters, and starts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import requests
from requests.auth import HTTPBasicAuth

PACKAGE = Path(__file__).resolve().parents[3] / "sandbox" / "onec"


def test_the_emulator_imports_nothing_from_gateway_or_adapters() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("gateway", "adapters")
            ]
    assert offenders == []


def test_the_command_line_serves_the_emulator_until_stopped() -> None:
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "onec",
        "--port",
        "0",
        "--user",
        "Тест",
        "--password",
        "p",
    ]
    with subprocess.Popen(
        command, cwd=PACKAGE.parents[1], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = line.split()[2]
            assert url.endswith("/uh")
            with requests.get(
                url + "/hs/approvals/v1/tasks",
                auth=HTTPBasicAuth("Тест".encode(), b"p"),
                timeout=10,
            ) as answer:
                assert answer.status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
