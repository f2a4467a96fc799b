"""One HTTP session to 1C, shared by the connectors, and the one place transport failures are named.

- HTTP Basic sent as UTF-8 bytes: requests cannot encode Cyrillic `str` credentials, and 1C
  decodes Basic credentials as UTF-8.
- Connect and read timeouts from ONEC_TIMEOUT; pooled keep-alive connections.
- Retries with exponential backoff for idempotent reads only (GET/HEAD on connection errors and
  502/503/504); a write is never repeated here, since 1C may have applied it.
- Failures become gateway errors: no answer → UpstreamUnavailable; 401 → AuthenticationFailed;
  an HTML page where JSON was expected (a publication's login page with HTTP 200) →
  AuthenticationFailed saying so; unreadable JSON → MalformedAnswer naming the URL.
URLs in messages lose their query string, which can carry phone numbers.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

import requests
import requests.auth
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from gateway.errors import AuthenticationFailed, MalformedAnswer, Upstream, UpstreamUnavailable

UPSTREAM: Final = Upstream.ONEC
MAX_CONNECT_TIMEOUT_SECONDS: Final = 10.0
READ_RETRIES: Final = 3
RETRY_BACKOFF_SECONDS: Final = 0.5
POOL_SIZE: Final = 16
USER_AGENT: Final = "tg1c-gateway"
FAIL_FAST_SECONDS = 2.0  # after 1C could not be reached, skip it this long


def safe_url(url: str) -> str:
    """`url` without its query string and credentials, its Cyrillic path readable again, fit
    for messages a 1C administrator reads."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, unquote(parts.path), "", ""))


def query_string(params: Mapping[str, object]) -> str:
    """Encode query parameters with %20 for spaces (1C's OData does not read `+` as a space)."""
    return urlencode({k: str(v) for k, v in params.items()}, quote_via=quote, safe="$,()':")


class Utf8BasicAuth(requests.auth.AuthBase):
    """HTTP Basic with the credentials encoded as UTF-8, as 1C decodes them."""

    def __init__(self, username: str, password: str) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "Utf8BasicAuth(<hidden>)"


@dataclass(frozen=True, slots=True)
class Answer:
    """A 1C answer that arrived: status, content type and body, for the connector to read."""

    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def is_html(self) -> bool:
        """True for an HTML page (a login page, a web server's error page)."""
        head = self.body.lstrip()[:15].lower()
        return "html" in self.content_type or head.startswith((b"<!doctype", b"<html"))

    def json(self) -> Any:
        """The body as JSON; an HTML page or unreadable JSON raises a gateway error."""
        if self.is_html:
            raise AuthenticationFailed(
                f"1C answered an HTML page instead of JSON at {safe_url(self.url)} "
                f"(HTTP {self.status}): usually the web server's login page, so the publication "
                "does not accept Basic authentication or ONEC_USERNAME/ONEC_PASSWORD are wrong"
            )
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedAnswer(
                UPSTREAM,
                f"unreadable JSON from {safe_url(self.url)} (HTTP {self.status}, "
                f"{len(self.body)} bytes): {exc}",
            ) from exc


class OneCSession:
    """requests.Session configured for 1C; `request` answers an Answer or raises a gateway error."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        timeout: float,
        retries: int = READ_RETRIES,
        backoff: float = RETRY_BACKOFF_SECONDS,
        verify: bool | str = True,
    ) -> None:
        self.timeout = (min(timeout, MAX_CONNECT_TIMEOUT_SECONDS), timeout)
        self._failing_until = 0.0
        self._last_failure = ""
        self._http = requests.Session()
        # ONEC_CA_BUNDLE (a path) or ONEC_VERIFY_TLS=false; `check` warns about the latter.
        self._http.verify = verify
        if verify is False:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if username:
            self._http.auth = Utf8BasicAuth(username, password)
        self._http.headers["User-Agent"] = USER_AGENT
        retry = Retry(
            total=retries,
            connect=retries,
            read=1,  # once, for a keep-alive connection the server closed; not for slowness
            status=retries,
            other=0,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=(502, 503, 504),
            backoff_factor=backoff,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        json_body: object = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request; an answer of any status comes back, except 401 and no answer at all.

        Right after 1C could not be reached, requests fail at once for a few seconds instead of
        each waiting out the timeouts: a burst of presses during an outage is answered quickly
        (the decisions wait in the outbox), and the outage is not hammered.
        """
        if time.monotonic() < self._failing_until:
            raise UpstreamUnavailable(UPSTREAM, f"{self._last_failure} (failing fast)")
        if params:
            url = f"{url}?{query_string(params)}"
        body = data
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            all_headers.setdefault("Content-Type", "application/json; charset=utf-8")
        try:
            response = self._http.request(
                method, url, data=body, headers=all_headers, timeout=self.timeout
            )
            content = response.content
        except requests.RequestException as exc:
            reason = _reason(exc)
            if "timeout" in reason:
                reason = f"no answer within {self.timeout[1]:g} s"
            self._last_failure = f"{safe_url(url)}: {reason}"
            self._failing_until = time.monotonic() + FAIL_FAST_SECONDS
            raise UpstreamUnavailable(UPSTREAM, self._last_failure) from exc
        self._failing_until = 0.0
        if response.status_code == 401:
            raise AuthenticationFailed(
                f"1C refused the credentials (HTTP 401 at {safe_url(url)}): "
                "check ONEC_USERNAME and ONEC_PASSWORD and the user's rights to the publication"
            )
        return Answer(
            url=url,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", "").lower(),
            body=content,
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, from the innermost exception (requests nests urllib3's)."""
    inner: BaseException | None = exc
    names = []
    while inner is not None:
        names.append(type(inner).__name__)
        # ssl's errors carry `reason` as a string (e.g. CERTIFICATE_VERIFY_FAILED), not a cause.
        reason = getattr(inner, "reason", None)
        inner = reason if isinstance(reason, BaseException) else inner.__context__
    if any("Timeout" in name for name in names):
        return "no answer in time (read timeout)"
    if "SSLCertVerificationError" in names:
        return (
            "1C's TLS certificate is not trusted: give its CA's PEM file in ONEC_CA_BUNDLE "
            "(SSLCertVerificationError)"
        )
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed ({names[-1]})"
    return f"request failed ({names[-1]})"
