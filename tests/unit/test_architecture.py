"""The dependency rules of the ports-and-adapters layout, checked by parsing every import.

- The core (`gateway/` except the composition root and entry points) imports only the standard
  library and other core modules.
- An adapter imports the core, its own package and its own libraries, never another adapter,
  the composition root, the entry points or the sandbox.
- The sandbox emulates outside systems and imports nothing of the gateway.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIRING = ("gateway.bootstrap", "gateway.entrypoints", "gateway.__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Absolute names of every module `source` imports, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name
            # `from package import module` imports a module too.
            yield from (f"{name}.{alias.name}" for alias in node.names)


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(module: str, imported: list[str]) -> list[str]:
    """What `module` may not import among `imported`, with the rule it breaks."""
    found = []
    top = module.split(".")[0]
    for name in imported:
        root = name.split(".")[0]
        if top == "gateway" and not under(module, *WIRING):
            if under(name, *WIRING):
                found.append(f"{module} (core) imports the wiring {name}")
            elif root not in sys.stdlib_module_names and root != "gateway":
                found.append(f"{module} (core) imports outside library or adapter {name}")
        elif top == "adapters":
            own = ".".join(module.split(".")[:2])
            if root == "adapters" and "." in name and not under(name, own):
                found.append(f"{module} (adapter) imports another adapter {name}")
            if under(name, *WIRING):
                found.append(f"{module} (adapter) imports the wiring {name}")
            if root == "sandbox":
                found.append(f"{module} (adapter) imports the sandbox {name}")
        elif top == "sandbox" and root in ("gateway", "adapters"):
            found.append(f"{module} (sandbox) imports the gateway's {name}")
    return found


def project_modules() -> Iterator[Path]:
    for folder in ("gateway", "adapters", "sandbox"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_every_module_keeps_the_dependency_rules() -> None:
    problems = []
    for path in project_modules():
        module = module_name(path)
        names = list(imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"))
        problems += violations(module, names)
    assert problems == []


def test_the_core_modules_exist_and_are_checked() -> None:
    checked = {module_name(p) for p in project_modules()}
    assert {"gateway.domain", "gateway.ports", "gateway.errors", "gateway.settings"} <= checked


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("gateway.domain", "import requests", "imports outside library or adapter requests"),
        ("gateway.usecases.sync", "from flask import Flask", "imports outside library"),
        ("gateway.ports", "import adapters.redis_store", "imports outside library or adapter"),
        ("gateway.domain", "from gateway.bootstrap import build", "imports the wiring"),
        ("adapters.pdf.render", "from adapters.redis_store import RedisStore", "another adapter"),
        ("adapters.pdf.render", "from .. import redis_store", "another adapter"),
        ("adapters.pdf.render", "from gateway.entrypoints import cli", "imports the wiring"),
        ("sandbox.onec.model", "from gateway.domain import Task", "imports the gateway's"),
    ],
)
def test_the_checker_catches_each_kind_of_violation(
    module: str, source: str, expected: str
) -> None:
    found = violations(module, list(imports(source, module, is_package=False)))
    assert any(expected in f for f in found), found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("gateway.domain", "import dataclasses, enum\nfrom gateway.errors import GatewayError"),
        ("gateway.entrypoints.web", "from flask import Flask\nfrom gateway.bootstrap import build"),
        ("adapters.redis_store.store", "import redis\nfrom gateway.ports import Store"),
        ("adapters.redis_store", "from adapters.redis_store.store import RedisStore"),
        ("sandbox.telegram.server", "from flask import Flask\nfrom sandbox.telegram import state"),
    ],
)
def test_the_checker_allows_what_the_layout_allows(module: str, source: str) -> None:
    assert violations(module, list(imports(source, module, is_package=False))) == []
