"""One error hierarchy for the whole gateway.

Adapters translate their libraries' exceptions into these once, at the edge, chained with
`raise ... from exc`; entry points turn them into HTTP statuses, bot replies or exit codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Upstream(StrEnum):
    """The outside systems errors name as their `upstream`: printed in messages and compared
    (a 1C outage is told apart from the others)."""

    ONEC = "1C"
    TELEGRAM = "Telegram"
    REDIS = "Redis"


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class UpstreamUnavailable(GatewayError):
    """An outside system (1C, Telegram, Redis) could not be reached or failed: try again later."""

    retryable = True

    def __init__(self, upstream: str, reason: str) -> None:
        super().__init__(f"{upstream} is unavailable: {reason}")
        self.upstream = upstream
        self.reason = reason


class RateLimited(UpstreamUnavailable):
    """The upstream asked us to slow down for `retry_after` seconds."""

    def __init__(self, upstream: str, retry_after: float) -> None:
        super().__init__(upstream, f"rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after


class MalformedAnswer(UpstreamUnavailable):
    """The upstream answered something unreadable (truncated or invalid JSON, a broken envelope).

    Retryable: a proxy cutting an answer short is the usual cause; the message names the URL.
    """


class UpstreamApplicationError(UpstreamUnavailable):
    """1C's application code raised (OData code -1, HTTP 500); often a lock conflict, so retryable.

    Keeps 1C's own code and message, which is what a 1C administrator needs to see.
    """

    def __init__(self, upstream: str, code: str, message: str) -> None:
        super().__init__(upstream, f"error in 1C application code ({code}): {message}")
        self.code = code
        self.message = message


class RenderFailed(UpstreamUnavailable):
    """The PDF engine ran but failed or timed out on a document; the next attempt may succeed."""

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"PDF engine {engine}", reason)
        self.engine = engine


class RequestRejected(GatewayError):
    """The upstream answered and refused this request; repeating it will not help."""

    retryable = False

    def __init__(self, upstream: str, code: str, message: str) -> None:
        super().__init__(f"{upstream} rejected the request ({code}): {message}")
        self.upstream = upstream
        self.code = code
        self.message = message


class NotFound(RequestRejected):
    """The task, user or document does not exist (any more) in the upstream."""


class AlreadyCompleted(RequestRejected):
    """The task was completed or cancelled before this decision; `task` is its current state."""

    def __init__(self, upstream: str, message: str, task: Any = None) -> None:
        super().__init__(upstream, "already_completed", message)
        self.task = task


class VersionConflict(RequestRejected):
    """The object changed since we read it (HTTP 412 on `If-Match`): re-read and decide again."""


class StaleDecision(RequestRejected):
    """The task or its document changed since the approver's card showed them (design 6.12):
    nothing was written; `task` is the current state, when 1C told it."""

    def __init__(self, upstream: str, message: str, task: Any = None) -> None:
        super().__init__(upstream, "stale", message)
        self.task = task


class Refused(RequestRejected):
    """1C's own code refused to execute the decision (design 6.13): final, never retried;
    `message` is 1C's text, what the approver is shown."""

    def __init__(self, upstream: str, message: str) -> None:
        super().__init__(upstream, "refused", message)


class NotPerformer(RequestRejected):
    """The deciding user is not the task's performer."""


class RecipientBlocked(RequestRejected):
    """The Telegram user blocked the bot (or deleted the chat): nothing can reach them."""


class InvalidRequest(RequestRejected):
    """The upstream found the request malformed (bad decision, missing comment, bad query)."""


class ConfigurationError(GatewayError):
    """The gateway is set up wrongly: settings, credentials, a publication that is not there."""


class AuthenticationFailed(ConfigurationError):
    """The upstream refused our credentials, or answered a login page instead of data."""


class AccessDenied(ConfigurationError):
    """The gateway's own 1C user lacks rights for an operation (OData code 20)."""

    def __init__(self, upstream: str, code: str, message: str) -> None:
        super().__init__(f"{upstream} denied access ({code}): {message}")
        self.upstream = upstream
        self.code = code
        self.message = message


class SettingsError(ConfigurationError):
    """Settings failed validation; `problems` holds one line per problem, naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings:\n" + "\n".join(problems))
        self.problems = problems
