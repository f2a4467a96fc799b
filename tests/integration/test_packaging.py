"""`pip install .` into a fresh virtualenv gives a working `tg1c` (issue 19, point 1).

The venv reaches the package index pip is configured with on this machine; the install takes
about 15 s here, so the test stays in the integration tier.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the package and its runtime dependencies installed by `pip install .`."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # A copy, as a release archive would be: setuptools builds in the source tree.
    source = tmp_path_factory.mktemp("source") / "tg1c"
    shutil.copytree(
        CHECKOUT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"),
    )
    build = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", str(source)],
        capture_output=True,
        text=True,
        cwd=build,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def _tg1c(
    venv: Path, env: dict[str, str], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "tg1c"), *args],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_the_installed_tg1c_lists_the_same_commands_as_python_m_gateway(
    installed, tmp_path
) -> None:
    result = _tg1c(installed, {}, tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tg1c ")
    for command in ("run", "check", "web", "admin-invite", "links", "outbox"):
        assert command in result.stdout


def test_the_installed_tg1c_check_passes_against_the_emulators(
    installed, tmp_path, onec_env
) -> None:
    result = _tg1c(installed, onec_env, tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("settings: ok\n")
    assert f"1c: ok (odata at {onec_env['ONEC_BASE_URL']})" in result.stdout


def test_the_installed_package_carries_templates_profiles_extension_and_the_example(
    installed,
) -> None:
    site = next((installed / "lib").glob("python3*/site-packages"))
    assert (site / "adapters" / "pdf" / "templates" / "default.html").is_file()
    assert (site / "adapters" / "onec" / "profiles" / "bsp.toml").is_file()
    assert (site / "adapters" / "onec" / "extension" / "Configuration.xml").is_file()
    assert (installed / "share" / "tg1c" / "gateway.env.example").is_file()
    assert not (site / "tests").exists()


def test_runtime_dependencies_are_pinned_with_hashes_and_dev_tools_stay_out() -> None:
    lock = (CHECKOUT / "requirements.lock").read_text(encoding="utf-8")
    pins = [line.split("==")[0].lower() for line in lock.splitlines() if "==" in line]
    runtime = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in runtime["project"]["dependencies"]:
        name = requirement.split(">")[0].split("=")[0].split("[")[0].lower()
        assert name.replace("_", "-") in pins, requirement
    for dev_tool in ("pytest", "ruff", "mypy", "playwright", "pypdf"):
        assert dev_tool not in pins
    lines = lock.splitlines()
    for number, line in enumerate(lines):
        if "==" in line and not line.startswith(" "):
            assert lines[number + 1].strip().startswith("--hash=sha256:"), line
