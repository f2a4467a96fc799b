"""`python -m sandbox demo` (also `python -m gateway demo`): the Telegram emulator, two 1C
emulators (the holding's УХ and a company's ERP, one approver in both), the gateway's worker and
web process serving both bases (ONEC_BASES=uh,erp), a demo page; `--single-base`: УХ alone.

Each part runs as a child process (`python -m sandbox onec`, `python -m sandbox telegram`,
`python -m gateway run`, `python -m gateway web`, `python -m sandbox.demo`), its output prefixed
with its name; Redis is the one at REDIS_URL, or a local `redis-server` started for the demo. The
command prints one URL, the demo page, and stops every child on Ctrl-C or SIGTERM. It imports
nothing from the gateway: the gateway and its emulators meet only over HTTP, as in production.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import hashlib
import hmac
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

import redis

CHECKOUT: Final = Path(__file__).resolve().parents[2]
SANDBOX_TOKEN: Final = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the emulator's default
ONEC_USER: Final = "Шлюз"
ONEC_PASSWORD: Final = "sandbox"
DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX: Final = "tg1c-demo:"
POLL_INTERVAL_SECONDS: Final = 2
START_TIMEOUT_SECONDS: Final = 60.0
STOP_GRACE_SECONDS: Final = 8.0
PORTS: Final = (  # option name, default, what listens there
    ("port", 8080, "the demo page"),
    ("telegram-port", 8081, "the Telegram emulator"),
    ("onec-port", 8082, "the 1C emulator"),
    ("web-port", 8083, "the gateway's web process"),
    ("erp-port", 8084, "the ERP 1C emulator"),
)


@dataclass(frozen=True)
class DemoBase:
    """One infobase of the demo: its ONEC_BASES name, the emulator's seed and title, its port."""

    name: str
    title: str
    port_option: str

    @property
    def publication(self) -> str:
        """The emulator's publication root (ONEC_<NAME>_BASE_URL ends with it)."""
        return f"/{self.name}"


# The holding's УХ and a company's ERP: one approver (Морозов) is a 1C user in both, by phone.
BASES: Final = (DemoBase("uh", "УХ", "onec-port"), DemoBase("erp", "ERP", "erp-port"))
# Settings a person's environment may hold for a real installation; the demo sets its own.
FOREIGN_SETTINGS: Final = re.compile(
    r"^(ONEC_|TELEGRAM_|GATEWAY_|PDF_|REMIND_|WORK_HOURS|REDIS_PREFIX)"
)
# Lines dropped unless --verbose: the page's polling of the emulators' control APIs, start-up
# banners naming other URLs than the one to open, and WeasyPrint's progress notes.
NOISE: Final = re.compile(
    r"(GET|POST|PATCH|DELETE) /_sandbox/|^1C emulator: http|^Telegram Bot API sandbox on|"
    r"Serving Flask app|Debug mode:|Running on http|This is a development server|"
    r"Press CTRL\+C|weasyprint\.progress"
)
PR_SET_PDEATHSIG: Final = 1


class DemoError(Exception):
    """The demo cannot start; the message says what to do."""


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The launcher's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox demo",
        description="the sandbox: both emulators, the gateway and a web page to play the approver",
    )
    for option, default, what in PORTS:
        parser.add_argument(
            f"--{option}", type=int, default=default, help=f"{what} (0 = any free port)"
        )
    parser.add_argument(
        "--connector", choices=("http", "odata", "soap"), default="http", help="ONEC_CONNECTOR"
    )
    parser.add_argument(
        "--redis-prefix", default=DEFAULT_PREFIX, help="REDIS_PREFIX (its keys are cleared)"
    )
    parser.add_argument(
        "--single-base",
        action="store_true",
        help="one infobase (УХ) configured without ONEC_BASES, as before issue 21",
    )
    parser.add_argument("--verbose", action="store_true", help="show every emulator log line")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the demo."""
    return cmd_demo(parse(sys.argv[1:] if argv is None else argv))


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo until SIGINT or SIGTERM; 0 after a clean stop, 1 on failure, 2 if it can't."""
    demo = Demo(args)
    try:
        return demo.run()
    except DemoError as exc:
        demo.say(f"demo: {exc}")
        return 2
    finally:
        demo.stop()


@dataclass
class Child:
    """A child process and the thread copying its output, prefixed."""

    name: str
    process: subprocess.Popen[str]
    pump: threading.Thread


@dataclass
class Demo:
    """The demo's processes, started in order and stopped in reverse."""

    args: argparse.Namespace
    out: TextIO = sys.stdout
    children: list[Child] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workdir: str = ""

    def say(self, line: str) -> None:
        """One line of the demo's own, between the children's."""
        with self._lock:
            print(line, file=self.out, flush=True)

    def run(self) -> int:
        """Start everything, print the URL, wait for a signal or a child's death."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        bases = BASES[:1] if self.args.single_base else BASES
        used = {o for o, _, _ in PORTS} - {b.port_option for b in BASES[len(bases) :]}
        ports = resolve_ports(
            {o: int(getattr(self.args, o.replace("-", "_"))) for o, _, _ in PORTS if o in used}
        )
        # Children run in an empty folder, so a `.env` of a real installation cannot leak in.
        self._workdir = tempfile.mkdtemp(prefix="tg1c-demo-")
        redis_url = self.redis()
        clear_prefix(redis_url, self.args.redis_prefix)

        telegram = f"http://127.0.0.1:{ports['telegram-port']}"
        onec = {b.name: f"http://127.0.0.1:{ports[b.port_option]}" for b in bases}
        web = f"http://127.0.0.1:{ports['web-port']}"
        page = f"http://127.0.0.1:{ports['port']}/"
        secret = secrets.token_urlsafe(32)
        push_secrets = {b.name: secrets.token_urlsafe(32) for b in bases}
        if self.args.single_base:
            env = self.gateway_env(telegram, onec["uh"], redis_url, secret, push_secrets["uh"])
        else:
            env = self.bases_env(telegram, onec, redis_url, secret, push_secrets)

        self.start("telegram", ["-m", "sandbox", "telegram", "--port", str(ports["telegram-port"])])
        self.start("web", ["-m", "gateway", "web", "--port", str(ports["web-port"])], env)
        self.wait_until("the Telegram emulator", lambda: http_ok(f"{telegram}/_sandbox/users"))
        self.wait_until("the gateway's web process", lambda: http_ok(f"{web}/healthz"))
        pushing = []
        for base in bases:
            # A named base pushes to its own route, signed with its own secret (design 21).
            events = f"{web}/onec/events" + ("" if self.args.single_base else f"/{base.name}")
            push = accepts_push(events, push_secrets[base.name])
            pushing.append(push)
            onec_args = ["-m", "sandbox", "onec", "--port", str(ports[base.port_option])]
            onec_args += [f"--base={base.publication}", f"--seed={base.name}"]
            if push:
                onec_args += onec_push_args(events, push_secrets[base.name])
            # The 1C emulator reads the secret from its command line: a demo-only, per-run value.
            name = "1c" if base.name == "uh" else f"1c-{base.name}"
            self.start(name, onec_args)
            what = "the 1C emulator" + ("" if base.name == "uh" else f" ({base.title})")
            self.wait_until(what, functools.partial(http_ok, f"{onec[base.name]}/_sandbox/users"))
        push = all(pushing)
        self.start("worker", ["-m", "gateway", "run"], env)
        page_args = ["--port", str(ports["port"]), "--telegram-url", telegram]
        if self.args.single_base:
            page_args += ["--onec-url", onec["uh"]]
        else:
            page_args += [f"--base={name}={url}" for name, url in onec.items()]
        self.start("page", ["-m", "sandbox.demo", *page_args])
        self.wait_until(
            "the gateway worker",  # it registers the bot's commands as it starts
            lambda: http_ok(f"{telegram}/_sandbox/calls?method=setMyCommands", needle='"method"'),
        )
        self.wait_until("the demo page", lambda: http_ok(f"{page}api/state"))

        how = "push from 1C and polling" if push else f"polling every {POLL_INTERVAL_SECONDS} s"
        shown = " and ".join(b.title for b in bases)
        self.say("")
        self.say(
            f"demo: ready ({shown}; {self.args.connector} connector, {how}). Open the demo page:"
        )
        self.say("")
        self.say(f"    {page}")
        self.say("")
        self.say("demo: Ctrl-C stops everything.")
        while not self.stopping.wait(0.5):
            dead = self.dead_child()
            if dead is not None:
                self.say(f"demo: {dead.name} exited with code {dead.process.returncode}; stopping")
                return 1
        self.say("demo: stopping")
        return 0

    def redis(self) -> str:
        """The Redis URL to use: REDIS_URL if it answers, else a local redis-server started here."""
        url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
        if redis_answers(url):
            return url
        parsed = urllib.parse.urlparse(url)
        shown = f"{parsed.hostname}:{parsed.port or 6379}"
        if parsed.hostname not in ("127.0.0.1", "localhost"):
            raise DemoError(f"Redis at {shown} (REDIS_URL) does not answer.")
        server = shutil.which("redis-server")
        if server is None:
            raise DemoError(
                f"Redis does not answer on {shown} and redis-server is not installed.\n"
                "Install it with: sudo apt-get install -y redis-server\n"
                "or point REDIS_URL at a running Redis."
            )
        port = str(parsed.port or 6379)
        self.say(f"demo: Redis does not answer on {shown}; starting redis-server for the demo")
        self.start(
            "redis",
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                port,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._workdir,
            ],
            python=False,
        )
        self.wait_until("redis-server", lambda: redis_answers(url))
        return url

    def gateway_env(
        self, telegram: str, onec: str, redis_url: str, secret: str, push_secret: str
    ) -> dict[str, str]:
        """The environment of `python -m gateway run` and `web`: the demo's settings only."""
        env = {k: v for k, v in child_env().items() if not FOREIGN_SETTINGS.match(k)}
        env.update(
            ONEC_CONNECTOR=self.args.connector,
            ONEC_BASE_URL=f"{onec}/uh",
            ONEC_USERNAME=ONEC_USER,
            ONEC_PASSWORD=ONEC_PASSWORD,
            ONEC_PROFILE="sandbox",  # the OData mapping of the emulator (odata connector only)
            ONEC_APPROVAL_PROCESSES="BusinessProcess_Согласование",  # the emulator's approvals
            ONEC_POLL_INTERVAL=str(POLL_INTERVAL_SECONDS),
            ONEC_TIMEOUT="5",
            TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
            TELEGRAM_API_URL=telegram,
            TELEGRAM_MODE="polling",
            REDIS_URL=redis_url,
            REDIS_PREFIX=self.args.redis_prefix,
            GATEWAY_SECRET=secret,
            ONEC_PUSH_SECRET=push_secret,
            # WeasyPrint, as the 1C emulator's print forms: no wkhtmltopdf needed for the demo.
            PDF_ENGINE="weasyprint",
        )
        return env

    def bases_env(
        self,
        telegram: str,
        onec: dict[str, str],
        redis_url: str,
        secret: str,
        push_secrets: dict[str, str],
    ) -> dict[str, str]:
        """The gateway's environment for several bases: ONEC_BASES and ONEC_<BASE>_* per base;
        what the bases share (connector, account, profile, intervals) stays unprefixed."""
        env = self.gateway_env(telegram, "", redis_url, secret, "")
        del env["ONEC_BASE_URL"], env["ONEC_PUSH_SECRET"]
        env["ONEC_BASES"] = ",".join(onec)
        for base in BASES:
            if base.name in onec:
                prefix = f"ONEC_{base.name.upper()}_"
                env[prefix + "BASE_URL"] = onec[base.name] + base.publication
                env[prefix + "TITLE"] = base.title
                env[prefix + "PUSH_SECRET"] = push_secrets[base.name]
        return env

    def start(
        self,
        name: str,
        command: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        python: bool = True,
    ) -> None:
        """Start a child in its own session, so only the demo gets the terminal's Ctrl-C."""
        self.check_stopping()
        argv = [sys.executable, *command] if python else list(command)
        process = subprocess.Popen(
            argv,
            cwd=self._workdir or None,
            env=env or child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        pump = threading.Thread(target=self.pump, args=(name, process), daemon=True)
        pump.start()
        self.children.append(Child(name, process, pump))

    def pump(self, name: str, process: subprocess.Popen[str]) -> None:
        """Copy a child's output line by line, prefixed with its name."""
        assert process.stdout is not None
        for line in process.stdout:
            if not self.args.verbose and NOISE.search(line):
                continue
            self.say(f"{name:>8} | {line.rstrip()}")

    def wait_until(self, what: str, ready: Callable[[], bool]) -> None:
        """Wait for `ready()`; fail if a child died, the time is up, or a signal came."""
        self.say(f"demo: waiting for {what}")
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready():
            self.check_stopping()
            dead = self.dead_child()
            if dead is not None:
                raise DemoError(
                    f"{dead.name} exited with code {dead.process.returncode} "
                    "(its output is above, prefixed with its name)"
                )
            if time.monotonic() > deadline:
                raise DemoError(f"{what} did not start within {START_TIMEOUT_SECONDS:g} s")
            self.stopping.wait(0.2)

    def check_stopping(self) -> None:
        if self.stopping.is_set():
            raise DemoError("interrupted while starting")

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM to every child, newest first (the gateway before what it talks to), then
        SIGKILL to any still running after the grace period."""
        for child in reversed(self.children):
            signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in reversed(self.children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(max(0.0, deadline - time.monotonic()))
            if child.process.poll() is None:
                self.say(f"demo: {child.name} did not stop in time; killing it")
                signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            child.pump.join(2.0)
        self.children.clear()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = ""


def resolve_ports(requested: dict[str, int]) -> dict[str, int]:
    """The ports to use: 0 picks a free one; a taken port is an error naming its option."""
    taken = []
    ports = {}
    for option, port in requested.items():
        if port == 0:
            ports[option] = free_port()
        elif port_is_free(port):
            ports[option] = port
        else:
            what = next(w for o, _, w in PORTS if o == option)
            taken.append(f"port {port} ({what}) is in use: free it or pass --{option} N")
    if taken:
        taken.append("(a port option of 0 picks any free port)")
        raise DemoError("\n  ".join(["cannot start:", *taken]))
    return ports


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers do: connections of a previous run in TIME_WAIT do not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def clear_prefix(url: str, prefix: str) -> None:
    """Forget the previous demo run: every key under the demo's own prefix."""
    if not prefix:
        raise DemoError("--redis-prefix must not be empty (its keys are deleted)")
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def http_ok(url: str, needle: str = "") -> bool:
    """True if `url` answers 200 (and its body contains `needle`)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200 and needle in answer.read().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return False


def onec_push_args(url: str, secret: str) -> list[str]:
    """The 1C emulator's push options, as `--name=value`: a random value may begin with "-",
    which argparse would take for an option if it came as a separate argument."""
    return [f"--push-url={url}", f"--push-secret={secret}"]


def accepts_push(url: str, secret: str) -> bool:
    """Whether the gateway's web process has `POST /onec/events`: a signed, empty batch."""
    body = b'{"events": []}'
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Gateway-Timestamp": timestamp,
            "X-Gateway-Signature": f"sha256={digest.hexdigest()}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=2):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code not in (404, 405)
    except OSError:
        return False


def child_env() -> dict[str, str]:
    """The demo's environment for a child: the checkout importable, output unbuffered."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{CHECKOUT}{os.pathsep}{path}" if path else str(CHECKOUT)
    env["PYTHONUNBUFFERED"] = "1"
    env["PTB_TIMEDELTA"] = "1"  # python-telegram-bot 22 warns about timedelta otherwise
    return env


def die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM if the demo itself is killed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def signal_group(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    """Signal the child's whole process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


if __name__ == "__main__":
    sys.exit(main())
