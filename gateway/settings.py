"""Settings of design section 3, read from a mapping (the environment) and validated at once.

Every problem is reported, one line each, naming the variable; secret values never appear in
messages or reprs. `NAME_FILE` gives a secret from a file (Docker and systemd credentials).

Several 1C infobases (issue 21): `ONEC_BASES=uh,erp` lists them, and each 1C setting `ONEC_<X>` is
read for base `uh` as `ONEC_UH_<X>`, falling back to `ONEC_<X>` (except the base's address and
title), so a problem names the variable its value came from, hence its base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from gateway.domain.infobases import NAME_RE, Infobase
from gateway.domain.tasks import OtherTasks
from gateway.errors import SettingsError
from gateway.ports.documents import PdfEngine
from gateway.ports.messenger import TelegramMode
from gateway.ports.onec import Connector
from gateway.presentation.cards import MAX_CARD_FIELDS
from gateway.presentation.texts import LANGUAGES


class LogFormat(StrEnum):
    """LOG_FORMAT's values."""

    TEXT = "text"
    JSON = "json"  # one JSON object per line


CONNECTORS: Final = tuple(Connector)
BUILTIN_PROFILES: Final = ("bsp", "sandbox")
TELEGRAM_MODES: Final = tuple(TelegramMode)
# `auto`: wkhtmltopdf when its binary is on PATH, WeasyPrint otherwise (Debian 13 packages no
# wkhtmltopdf); the engine chosen is named by `check`, /readyz and the processes' start log.
PDF_ENGINES: Final = tuple(PdfEngine)
OTHER_TASKS_MODES: Final = tuple(OtherTasks)
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS: Final = tuple(LogFormat)
OFFICIAL_TELEGRAM_API: Final = "https://api.telegram.org"

REQUIRED: Final = ("ONEC_BASE_URL", "TELEGRAM_BOT_TOKEN", "GATEWAY_SECRET")
SECRET_NAMES: Final = (
    "TELEGRAM_BOT_TOKEN",
    "ONEC_PASSWORD",
    "GATEWAY_SECRET",
    "TELEGRAM_WEBHOOK_SECRET",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "ONEC_PUSH_SECRET",
    "TELEGRAM_PROXY_URL",
)
# The 1C settings each base of ONEC_BASES has under its own name (`ONEC_UH_BASE_URL` for
# ONEC_BASE_URL); each but ONEC_BASE_URL falls back to the unprefixed one, so shared values are set
# once. Besides these, a named base has a title, `ONEC_<BASE>_TITLE`.
PER_BASE: Final = (
    "ONEC_CONNECTOR",
    "ONEC_BASE_URL",
    "ONEC_USERNAME",
    "ONEC_PASSWORD",
    "ONEC_PROFILE",
    "ONEC_HTTP_ROOT",
    "ONEC_SOAP_WSDL",
    "ONEC_POLL_INTERVAL",
    "ONEC_TIMEOUT",
    "ONEC_APPROVAL_PROCESSES",
    "ONEC_OTHER_TASKS",
    "ONEC_USERS_GROUP",
    "ONEC_ADMINS_GROUP",
    "ONEC_PUSH_SECRET",
    "ONEC_CA_BUNDLE",
    "ONEC_VERIFY_TLS",
)
OWN_PER_BASE: Final = ("ONEC_BASE_URL",)
PER_BASE_SECRETS: Final = ("ONEC_PASSWORD", "ONEC_PUSH_SECRET")
PROXY_SCHEMES: Final = ("http", "https", "socks5", "socks5h")
_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")
MIN_GATEWAY_SECRET_LENGTH: Final = 16

_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_HTTP_ROOT_RE = re.compile(r"^[A-Za-z0-9_.~-]+$")
_PROCESS_SET_RE = re.compile(r"^BusinessProcess_\w+$")
_WORK_HOURS_RE = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_PLACEHOLDERS = ("change-me", "changeme", "your-")


class Secret:
    """A secret value that never shows itself in repr, str, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one adapter call that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class WorkHours:
    """Hours of the server's day when reminders may be sent: [start, end)."""

    start: int
    end: int

    def contains(self, hour: int) -> bool:
        """True if `hour` (0-23) is a working hour."""
        return self.start <= hour < self.end


@dataclass(frozen=True)
class OneCBaseSettings:
    """One infobase's 1C settings: today's `ONEC_*` values, read under the base's own name."""

    infobase: Infobase
    base_url: str
    connector: str = Connector.ODATA.value
    username: str = ""
    password: Secret = field(default=Secret(""), repr=False)
    profile: str = "bsp"
    http_root: str = "approvals"
    soap_wsdl: str = ""
    poll_interval: float = 15.0
    timeout: float = 30.0
    approval_processes: tuple[str, ...] = ()
    other_tasks: str = OtherTasks.NOTIFY.value
    users_group: str = ""
    admins_group: str = ""
    push_secret: Secret = field(default=Secret(""), repr=False)
    ca_bundle: Path | None = None
    verify_tls: bool = True

    @property
    def name(self) -> str:
        """The base's name in ONEC_BASES; "" for the single base."""
        return self.infobase.name

    @property
    def tls_verify(self) -> bool | str:
        """What the 1C session checks certificates with: the CA bundle's path, True for the
        system's CAs, False when VERIFY_TLS is false."""
        if not self.verify_tls:
            return False
        return str(self.ca_bundle) if self.ca_bundle else True

    @property
    def http_base(self) -> str:
        """Base URL of the gateway's HTTP service in 1C: `<base>/hs/<root>/v1`."""
        return f"{self.base_url}/hs/{self.http_root}/v1"

    def variable(self, setting: str) -> str:
        """The name this base's `setting` (e.g. ONEC_BASE_URL) is set under: ONEC_UH_BASE_URL."""
        return base_variable(self.name, setting)

    def secret_values(self) -> list[str]:
        """This base's secrets that are set, for the log filter that masks them."""
        values = [self.password.reveal(), self.push_secret.reveal()]
        if self.username and self.password:
            # What HTTP Basic encodes, so the header's base64 is masked as a whole too.
            values.append(f"{self.username}:{self.password.reveal()}")
        return [v for v in values if v]


def base_variable(base: str, setting: str) -> str:
    """The name of the 1C setting `setting` (ONEC_<X>) for `base`: itself for the single base,
    `ONEC_<BASE>_<X>` for a named one."""
    return f"ONEC_{base.upper()}_{setting.removeprefix('ONEC_')}" if base else setting


@dataclass(frozen=True)
class Settings:
    """Validated settings; build with `Settings.from_env(mapping)`."""

    # One per infobase, in ONEC_BASES order; without ONEC_BASES one, with an empty name.
    bases: tuple[OneCBaseSettings, ...]
    telegram_bot_token: Secret = field(repr=False)
    gateway_secret: Secret = field(repr=False)
    telegram_api_url: str = OFFICIAL_TELEGRAM_API
    telegram_mode: str = TelegramMode.POLLING.value
    telegram_webhook_url: str = ""
    telegram_webhook_secret: Secret = field(default=Secret(""), repr=False)
    telegram_proxy_url: Secret = field(default=Secret(""), repr=False)
    telegram_send_pdf: bool = True
    telegram_card_fields: int = MAX_CARD_FIELDS
    redis_url: Secret = field(default=Secret("redis://127.0.0.1:6379/0"), repr=False)
    redis_prefix: str = "tg1c:"
    gateway_language: str = "ru"
    pdf_engine: str = PdfEngine.AUTO.value
    pdf_templates_dir: Path | None = None
    remind_after_hours: float = 24.0
    work_hours: WorkHours = WorkHours(9, 19)
    log_level: str = "INFO"
    log_format: str = LogFormat.TEXT.value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Validate `env` (names of design section 3); SettingsError lists every problem."""
        return _Reader(env).read()

    @property
    def redis_url_display(self) -> str:
        """REDIS_URL with any password masked, safe to print."""
        return mask_url_password(self.redis_url.reveal())

    @property
    def telegram_proxy_display(self) -> str:
        """TELEGRAM_PROXY_URL with any password masked, safe to print ("" when unset)."""
        return mask_url_password(self.telegram_proxy_url.reveal())

    @property
    def first_base(self) -> OneCBaseSettings:
        """The first base of ONEC_BASES, or the single base: what a command without --base
        talks to."""
        return self.bases[0]

    @property
    def several_bases(self) -> bool:
        """True when ONEC_BASES names the infobases (even just one)."""
        return any(base.infobase.named for base in self.bases)

    def base(self, name: str) -> OneCBaseSettings:
        """The settings of the base named `name` ("" for the single base); KeyError if none."""
        for base in self.bases:
            if base.name == name:
                return base
        raise KeyError(name)

    def secret_values(self) -> list[str]:
        """Every secret value that is set, for the log filter that masks them."""
        values = [
            self.telegram_bot_token.reveal(),
            self.gateway_secret.reveal(),
            self.telegram_webhook_secret.reveal(),
        ]
        for base in self.bases:
            values += [v for v in base.secret_values() if v not in values]
        for url in (self.redis_url.reveal(), self.telegram_proxy_url.reveal()):
            password = urlsplit(url).password
            if password:
                values += [password, unquote(password)]
        return [v for v in values if v]


def is_secret_name(name: str) -> bool:
    """True for variables holding secrets (which may also come from a `NAME_FILE`)."""
    if name in SECRET_NAMES:
        return True
    # A base's own password or push key: ONEC_<BASE>_PASSWORD, ONEC_<BASE>_PUSH_SECRET.
    suffixes = tuple(secret.removeprefix("ONEC") for secret in PER_BASE_SECRETS)
    return name.startswith("ONEC_") and name.endswith(suffixes)


def mask_url_password(url: str) -> str:
    """The URL with its password (if any) replaced by `***`."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _with_password(url: str, password: str) -> str:
    """The Redis URL with `password` (percent-encoded) put before its host, as redis-py reads it."""
    parts = urlsplit(url)
    credentials, _, host = parts.netloc.rpartition("@")
    user = credentials.partition(":")[0]  # already percent-encoded, as the URL gave it
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


class _Reader:
    """Reads one variable at a time, collecting problems instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{name}: {message}")

    def raw(self, name: str, default: str = "", *, required: bool | None = None) -> str:
        """The value of `name`, or of the file `NAME_FILE` names for secrets; stripped.

        `required` defaults to whether `name` is in REQUIRED."""
        value = self.env.get(name, "")
        file_name = self.env.get(f"{name}_FILE", "") if is_secret_name(name) else ""
        if file_name:
            if value:
                self.problem(name, f"set both {name} and {name}_FILE; keep one")
                return ""
            try:
                value = Path(file_name).read_text(encoding="utf-8")
            except OSError as exc:
                self.problem(f"{name}_FILE", f"cannot read {file_name}: {exc.strerror}")
                return ""
            except UnicodeDecodeError:
                self.problem(f"{name}_FILE", f"{file_name} is not UTF-8 text")
                return ""
        value = value.strip()
        if not value:
            if name in REQUIRED if required is None else required:
                self.problem(name, "required, not set")
            return default
        if any(value.lower().startswith(p) for p in _PLACEHOLDERS) or (
            value.startswith("<") and value.endswith(">")
        ):
            self.problem(name, "still holds the example's placeholder; set a real value")
            return default
        return value

    def signing_key(self, name: str) -> str:
        """A key that signs (buttons, 1C's pushes); one shorter than MIN_GATEWAY_SECRET_LENGTH
        is a problem, and answered as unset so no other check of it adds a second one."""
        value = self.raw(name)
        if value and len(value) < MIN_GATEWAY_SECRET_LENGTH:
            self.problem(
                name,
                f"too short: use at least {MIN_GATEWAY_SECRET_LENGTH} random characters "
                "(e.g. `openssl rand -hex 32`)",
            )
            return ""
        return value

    def process_types(self, name: str) -> tuple[str, ...]:
        """A comma-separated list of OData business process sets (`BusinessProcess_<Имя>`)."""
        names = tuple(part.strip() for part in self.raw(name).split(",") if part.strip())
        for item in names:
            if not _PROCESS_SET_RE.match(item):
                self.problem(
                    name,
                    f"{item!r} is not an OData business process set name "
                    "(BusinessProcess_<Имя>, as `onec discover` lists them)",
                )
        return names

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(name, default)
        if value not in allowed:
            self.problem(name, f"{value!r} is not one of: {', '.join(allowed)}")
            return str(default)
        return str(value)  # a plain string, also when the default is an enum member

    def number(self, name: str, default: float, *, minimum: float, positive: bool) -> float:
        text = self.raw(name, str(default))
        try:
            value = float(text)
        except ValueError:
            self.problem(name, f"{text!r} is not a number")
            return default
        if value < minimum or (positive and value <= 0) or value != value:
            bound = "greater than 0" if positive else f"at least {minimum:g}"
            self.problem(name, f"must be {bound}, got {text}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        """true/false (also 1/0, yes/no, on/off)."""
        text = self.raw(name, "true" if default else "false").lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.problem(name, f"{text!r} is not true or false")
        return default

    def http_url(self, name: str, default: str = "", *, required: bool | None = None) -> str:
        value = self.raw(name, default, required=required).rstrip("/")
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(name, "must be an http:// or https:// URL with a host")
        elif parts.username or parts.password:
            self.problem(name, "must not hold credentials; use the username/password settings")
        return value

    def read(self) -> Settings:
        values: dict[str, Any] = {}
        bases = [self._read_base(infobase) for infobase in self._infobases()]
        self._read_telegram(values)
        self._read_redis(values)
        self._read_gateway(values)
        bases = [
            replace(base, push_secret=self._push_secret(base, values["gateway_secret"]))
            for base in bases
        ]
        if self.problems:
            # A shared ONEC_<X> that is wrong is wrong for every base; say so once.
            raise SettingsError(list(dict.fromkeys(self.problems)))
        return Settings(bases=tuple(bases), **values)

    def _infobases(self) -> list[Infobase]:
        """The bases ONEC_BASES lists; one unnamed base without it."""
        text = self.raw("ONEC_BASES")
        if not text:
            return [Infobase()]
        names = [part.strip() for part in text.split(",") if part.strip()]
        for name in names:
            if not NAME_RE.match(name):
                self.problem(
                    "ONEC_BASES",
                    f"{name!r} is not a base name: lower-case latin letters and digits, starting "
                    "with a letter, at most 10 characters",
                )
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problem("ONEC_BASES", f"{name!r} is listed twice")
        valid = list(dict.fromkeys(n for n in names if NAME_RE.match(n)))
        if not names:
            self.problem("ONEC_BASES", "lists no base; give names like uh,erp or leave it empty")
        if not valid:
            return [Infobase()]
        return [
            Infobase(name, self.raw(f"ONEC_{name.upper()}_TITLE", name.upper())) for name in valid
        ]

    def _base_name(self, infobase: Infobase, setting: str) -> str:
        """Where `setting` (ONEC_<X>) of `infobase` is read from: its own ONEC_<BASE>_<X> when
        set (or when it has no fallback), else the shared ONEC_<X>."""
        own = base_variable(infobase.name, setting)
        if setting in OWN_PER_BASE or self.env.get(own, "").strip():
            return own
        return own if self.env.get(f"{own}_FILE", "").strip() else setting

    def _read_base(self, infobase: Infobase) -> OneCBaseSettings:
        """One base's 1C settings (its push secret comes later, beside GATEWAY_SECRET's)."""

        def name(setting: str) -> str:
            return self._base_name(infobase, setting)

        values: dict[str, Any] = {"infobase": infobase}
        values["connector"] = self.choice(name("ONEC_CONNECTOR"), Connector.ODATA, CONNECTORS)
        base = self.http_url(name("ONEC_BASE_URL"), required=True)
        values["base_url"] = base
        values["username"] = self.raw(name("ONEC_USERNAME"))
        values["password"] = Secret(self.raw(name("ONEC_PASSWORD")))
        profile = self.raw(name("ONEC_PROFILE"), "bsp")
        if profile not in BUILTIN_PROFILES:
            path = Path(profile)
            if path.suffix != ".toml":
                self.problem(
                    name("ONEC_PROFILE"),
                    f"{profile!r} is neither a built-in profile ({', '.join(BUILTIN_PROFILES)}) "
                    "nor a path to a .toml file",
                )
            elif not path.is_file():
                self.problem(name("ONEC_PROFILE"), f"profile file {profile} does not exist")
        values["profile"] = profile
        root = self.raw(name("ONEC_HTTP_ROOT"), "approvals").strip("/")
        if not _HTTP_ROOT_RE.match(root):
            self.problem(name("ONEC_HTTP_ROOT"), f"{root!r} is not a single URL path segment")
        values["http_root"] = root
        # The default is derived from the base's URL, so only an explicit value is checked here.
        values["soap_wsdl"] = self.http_url(name("ONEC_SOAP_WSDL")) or f"{base}/ws/approvals?wsdl"
        values["poll_interval"] = self.number(
            name("ONEC_POLL_INTERVAL"), 15.0, minimum=0, positive=True
        )
        values["timeout"] = self.number(name("ONEC_TIMEOUT"), 30.0, minimum=0, positive=True)
        values["approval_processes"] = self.process_types(name("ONEC_APPROVAL_PROCESSES"))
        values["other_tasks"] = self.choice(
            name("ONEC_OTHER_TASKS"), OtherTasks.NOTIFY, OTHER_TASKS_MODES
        )
        values["users_group"] = self.raw(name("ONEC_USERS_GROUP")).strip()
        values["admins_group"] = self.raw(name("ONEC_ADMINS_GROUP")).strip()
        bundle = self.raw(name("ONEC_CA_BUNDLE"))
        if bundle and not Path(bundle).is_file():
            self.problem(
                name("ONEC_CA_BUNDLE"), f"{bundle} is not a file (PEM certificates of the CA)"
            )
        values["ca_bundle"] = Path(bundle) if bundle else None
        values["verify_tls"] = self.flag(name("ONEC_VERIFY_TLS"), True)
        return OneCBaseSettings(**values)

    def _push_secret(self, base: OneCBaseSettings, gateway_secret: Secret) -> Secret:
        """The key 1C signs this base's pushes with; it must not be the buttons' key."""
        variable = self._base_name(base.infobase, "ONEC_PUSH_SECRET")
        push_secret = self.signing_key(variable)
        if push_secret and push_secret == gateway_secret.reveal():
            self.problem(
                variable,
                "must differ from GATEWAY_SECRET: 1C must not hold the key that signs buttons",
            )
        return Secret(push_secret)

    def _read_telegram(self, values: dict[str, Any]) -> None:
        token = self.raw("TELEGRAM_BOT_TOKEN")
        if token and not _TOKEN_RE.match(token):
            self.problem(
                "TELEGRAM_BOT_TOKEN",
                "does not look like a token from BotFather (<digits>:<35 letters, digits, _ or ->)",
            )
        values["telegram_bot_token"] = Secret(token)
        api_url = self.http_url("TELEGRAM_API_URL", OFFICIAL_TELEGRAM_API)
        values["telegram_api_url"] = api_url
        mode = self.choice("TELEGRAM_MODE", TelegramMode.POLLING, TELEGRAM_MODES)
        values["telegram_mode"] = mode
        hook_url = self.http_url("TELEGRAM_WEBHOOK_URL")
        hook_secret = self.raw("TELEGRAM_WEBHOOK_SECRET")
        if mode == TelegramMode.WEBHOOK:
            if not hook_url:
                self.problem("TELEGRAM_WEBHOOK_URL", "required when TELEGRAM_MODE=webhook")
            elif api_url == OFFICIAL_TELEGRAM_API and not hook_url.startswith("https://"):
                self.problem("TELEGRAM_WEBHOOK_URL", "Telegram delivers webhooks only to https://")
            if not hook_secret:
                self.problem("TELEGRAM_WEBHOOK_SECRET", "required when TELEGRAM_MODE=webhook")
        if hook_secret and not _WEBHOOK_SECRET_RE.match(hook_secret):
            self.problem(
                "TELEGRAM_WEBHOOK_SECRET",
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
            )
        values["telegram_webhook_url"] = hook_url
        values["telegram_webhook_secret"] = Secret(hook_secret)
        proxy = self.raw("TELEGRAM_PROXY_URL")
        if proxy:
            parts = urlsplit(proxy)
            try:
                parts.port  # noqa: B018 - raises ValueError on a malformed port
                valid = parts.scheme in PROXY_SCHEMES and bool(parts.hostname)
            except ValueError:
                valid = False
            if not valid:
                self.problem(
                    "TELEGRAM_PROXY_URL",
                    f"{mask_url_password(proxy)!r} is not a proxy URL "
                    "(http://host:port, socks5://host:port, optionally user:password@)",
                )
        values["telegram_proxy_url"] = Secret(proxy)
        # What leaves for Telegram's servers: cards without the PDF, or with fewer fields.
        values["telegram_send_pdf"] = self.flag("TELEGRAM_SEND_PDF", True)
        fields = self.number("TELEGRAM_CARD_FIELDS", MAX_CARD_FIELDS, minimum=0, positive=False)
        if fields > MAX_CARD_FIELDS or fields != int(fields):
            self.problem(
                "TELEGRAM_CARD_FIELDS", f"must be a whole number from 0 to {MAX_CARD_FIELDS}"
            )
            fields = MAX_CARD_FIELDS
        values["telegram_card_fields"] = int(fields)

    def _read_redis(self, values: dict[str, Any]) -> None:
        url = self.raw("REDIS_URL", "redis://127.0.0.1:6379/0")
        parts = urlsplit(url)
        valid = parts.scheme in ("redis", "rediss", "unix")
        if parts.scheme in ("redis", "rediss"):
            try:
                parts.port  # noqa: B018 - raises ValueError on a malformed port
                db = parts.path.strip("/")
                valid = bool(parts.hostname) and (not db or db.isdigit())
            except ValueError:
                valid = False
        elif parts.scheme == "unix":
            valid = bool(parts.path)
        if not valid:
            self.problem(
                "REDIS_URL",
                f"{mask_url_password(url)!r} is not a Redis URL "
                "(redis://host:port/db, rediss://host:port/db or unix:///path/to/socket)",
            )
        password = self.raw("REDIS_PASSWORD")
        if password and parts.password:
            self.problem("REDIS_PASSWORD", "REDIS_URL holds a password already; keep one")
        elif password and valid:
            url = _with_password(url, password)
        values["redis_url"] = Secret(url)
        prefix = self.raw("REDIS_PREFIX", "tg1c:")
        if any(ch.isspace() for ch in prefix):
            self.problem("REDIS_PREFIX", "must not contain spaces")
        values["redis_prefix"] = prefix

    def _read_gateway(self, values: dict[str, Any]) -> None:
        secret = self.signing_key("GATEWAY_SECRET")
        values["gateway_secret"] = Secret(secret)
        values["gateway_language"] = self.choice("GATEWAY_LANGUAGE", "ru", LANGUAGES)
        values["pdf_engine"] = self.choice("PDF_ENGINE", PdfEngine.AUTO, PDF_ENGINES)
        templates = self.raw("PDF_TEMPLATES_DIR")
        if templates and not Path(templates).is_dir():
            self.problem("PDF_TEMPLATES_DIR", f"{templates} is not a directory")
        values["pdf_templates_dir"] = Path(templates) if templates else None
        values["remind_after_hours"] = self.number(
            "REMIND_AFTER_HOURS", 24.0, minimum=0, positive=False
        )
        values["work_hours"] = self._work_hours()
        values["log_level"] = self.choice("LOG_LEVEL", "INFO", LOG_LEVELS)
        values["log_format"] = self.choice("LOG_FORMAT", LogFormat.TEXT, LOG_FORMATS)

    def _work_hours(self) -> WorkHours:
        text = self.raw("WORK_HOURS", "09-19")
        match = _WORK_HOURS_RE.match(text)
        start, end = (int(match[1]), int(match[2])) if match else (-1, -1)
        if not 0 <= start < end <= 24:
            self.problem(
                "WORK_HOURS", f"{text!r} is not hours START-END like 09-19 (start < end ≤ 24)"
            )
            return WorkHours(9, 19)
        return WorkHours(start, end)
