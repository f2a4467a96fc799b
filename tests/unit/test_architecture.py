"""The dependency rules of the ports-and-adapters layout, checked by parsing every import.

- The core (`gateway/` except the composition root and entry points) imports only the standard
  library and other core modules.
- An adapter imports the core, its own package and its own libraries, never another adapter,
  the composition root, the entry points or the sandbox.
- Inside the core, each layer imports only the layers below it (`CORE_LAYERS`): the domain
  knows nothing of ports, ports nothing of presentation or use cases, and so on.
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

# What each layer of the core may import of the core, from the bottom up. A module belongs to
# the first layer whose prefix it starts with; `gateway` itself (the version) is the base.
BASE = ("gateway.errors", "gateway.masking")
CORE_LAYERS: dict[str, tuple[str, ...]] = {
    "gateway.errors": ("gateway.errors",),
    "gateway.masking": ("gateway.masking",),
    "gateway.domain": ("gateway.domain", "gateway.errors"),
    "gateway.ports": ("gateway.ports", "gateway.domain", "gateway.errors"),
    "gateway.scheduling": ("gateway.scheduling", "gateway.errors"),
    "gateway.presentation": ("gateway.presentation", "gateway.ports", "gateway.domain", *BASE),
    # Settings name the vocabulary they validate against (connectors, engines, languages).
    "gateway.settings": (
        "gateway.settings",
        "gateway.presentation",
        "gateway.ports",
        "gateway.domain",
        *BASE,
    ),
    "gateway.usecases": (
        "gateway.usecases",
        "gateway.settings",
        "gateway.presentation",
        "gateway.scheduling",
        "gateway.ports",
        "gateway.domain",
        *BASE,
    ),
}


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


def layered(module: str, name: str) -> bool:
    """True if core `module` may import core `name` by the layer rules (unknown layers: no)."""
    layer = next((p for p in CORE_LAYERS if under(module, p)), None)
    if layer is None:
        return False
    if under(name, layer) and any(under(name, p) for p in CORE_LAYERS):
        return True
    allowed = CORE_LAYERS[layer]
    # `from gateway.presentation import cards` names the package too: allow the package alone.
    return any(under(name, p) for p in allowed) or any(p.startswith(name + ".") for p in allowed)


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
            elif root == "gateway" and name != "gateway" and not layered(module, name):
                found.append(f"{module} imports {name}, a layer above its own")
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


def test_every_core_module_belongs_to_a_layer() -> None:
    modules = {module_name(p) for p in (ROOT / "gateway").rglob("*.py")}
    strays = [
        m
        for m in sorted(modules)
        if m != "gateway" and not under(m, *WIRING) and not any(under(m, c) for c in CORE_LAYERS)
    ]
    assert strays == []


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
        ("gateway.domain.tasks", "from gateway.ports.onec import OneC", "a layer above its own"),
        ("gateway.ports.onec", "from gateway.usecases import sync", "a layer above its own"),
        ("gateway.presentation.cards", "from gateway.usecases.sync import x", "a layer above"),
        ("gateway.scheduling.lanes", "from gateway.domain.tasks import Task", "a layer above"),
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
        ("gateway.usecases.sync", "from gateway.presentation import cards"),
        ("gateway.presentation.cards", "from gateway.domain.tasks import Task"),
        ("gateway.entrypoints.web", "from flask import Flask\nfrom gateway.bootstrap import build"),
        ("adapters.redis_store.store", "import redis\nfrom gateway.ports import Store"),
        ("adapters.redis_store", "from adapters.redis_store.store import RedisStore"),
        ("sandbox.telegram.server", "from flask import Flask\nfrom sandbox.telegram import state"),
    ],
)
def test_the_checker_allows_what_the_layout_allows(module: str, source: str) -> None:
    assert violations(module, list(imports(source, module, is_package=False))) == []
