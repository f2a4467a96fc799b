"""python-telegram-bot's exceptions translated once into the gateway's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from telegram import error as tg

from gateway.errors import (
    AuthenticationFailed,
    GatewayError,
    InvalidRequest,
    NotFound,
    RateLimited,
    RecipientBlocked,
    Upstream,
    UpstreamUnavailable,
)

UPSTREAM: Final = Upstream.TELEGRAM
NOT_MODIFIED: Final = "message is not modified"
NOT_FOUND_MARKERS: Final = ("message to edit not found", "message to delete not found")


@contextmanager
def translated() -> Iterator[None]:
    """Run a Bot API call; its failures come out as gateway errors, chained."""
    try:
        yield
    except tg.RetryAfter as exc:
        raise RateLimited(UPSTREAM, _seconds(exc.retry_after)) from exc
    except tg.InvalidToken as exc:
        raise AuthenticationFailed(
            "Telegram refused the bot token (check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL)"
        ) from exc
    except tg.Forbidden as exc:
        raise RecipientBlocked(UPSTREAM, "forbidden", exc.message) from exc
    except tg.BadRequest as exc:
        raise _bad_request(exc) from exc
    except tg.TimedOut as exc:
        raise UpstreamUnavailable(UPSTREAM, "no answer in time") from exc
    except tg.NetworkError as exc:
        raise UpstreamUnavailable(UPSTREAM, exc.message) from exc
    except tg.TelegramError as exc:
        raise UpstreamUnavailable(UPSTREAM, exc.message) from exc


def _bad_request(exc: tg.BadRequest) -> GatewayError:
    text = exc.message
    lowered = text.lower()
    if any(marker in lowered for marker in NOT_FOUND_MARKERS) or "chat not found" in lowered:
        return NotFound(UPSTREAM, "not_found", text)
    return InvalidRequest(UPSTREAM, "bad_request", text)


def _seconds(value: object) -> float:
    # PTB 22 gives an int, or a timedelta when PTB_TIMEDELTA is set.
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(str(value))
