"""Sign-in that resists guessing: failures counted per account and per client address.

`signin_failure_limit` failures (10) within a window of `signin_failure_window_s` (15 minutes) block
that account, or that address, until the window ends: a 429 with `Retry-After`, even for the right
password. A success is not counted. The lock lifts by itself, and a password reset by email clears the
account's failures, so a lock cannot keep an office out. The guesses of a link's token (an invitation,
a reset, a refresh token) are counted per address alike, in their own counter (`links`).

The counters live in Upstash Redis (`mla_core.adapters.ratelimit`). When Redis is unreachable the limits
are not enforced (logged as `signin limits unavailable`): signing in matters more than counting.

The client address is the one API Gateway saw (`requestContext.http.sourceIp`, which Mangum gives the
app as the request's client); a header such as `X-Forwarded-For` is the client's to write and never used.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from mla_core.adapters import Services
from mla_core.core.errors import AppError, AuthenticationError, RateLimitedError, TransientError

logger = logging.getLogger(__name__)

TOO_MANY = "too many failed attempts: try again later"


def account(email: str) -> str:
    """An account's counter, by a digest of its address (no email in Redis keys)."""
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def address(client: str) -> str:
    return f"address:{client or 'unknown'}"


def links(client: str) -> str:
    """Guesses of a token (an invitation, a reset link, a refresh token) from one address."""
    return f"links:{client or 'unknown'}"


def recovery(email: str) -> str:
    """Password-reset emails asked for one account (counted whether or not it exists)."""
    return "recovery:" + account(email).removeprefix("account:")


def recovery_from(client: str) -> str:
    return f"recovery-from:{client or 'unknown'}"


@contextmanager
def counted(
    services: Services, keys: Sequence[str], failures: tuple[type[AppError], ...] = (AuthenticationError,)
) -> Iterator[None]:
    """Refuse (`RateLimitedError`) when one of `keys` used up its failures; otherwise run the body and
    count a failure for every key when it raises one of `failures`."""
    s = services.settings
    try:
        wait = services.failures.blocked_for(keys, limit=s.signin_failure_limit, window_s=s.signin_failure_window_s)
    except TransientError:
        logger.warning("signin limits unavailable: not enforced", extra={"operation": "read"})
        wait = 0
    if wait:
        raise RateLimitedError(TOO_MANY, retry_after_s=wait)
    try:
        yield
    except failures:
        try:
            services.failures.failed(keys, limit=s.signin_failure_limit, window_s=s.signin_failure_window_s)
        except TransientError:
            logger.warning("signin limits unavailable: not enforced", extra={"operation": "count"})
        raise


def spend(services: Services, keys: Sequence[str]) -> bool:
    """Count one use of each of `keys` (a request that is capped whatever its outcome, such as a
    reset email); False once one of them is past its limit. True when Redis is unreachable."""
    s = services.settings
    try:
        return services.failures.failed(keys, limit=s.signin_failure_limit, window_s=s.signin_failure_window_s)
    except TransientError:
        logger.warning("signin limits unavailable: not enforced", extra={"operation": "spend"})
        return True


def renewal(user_id: str) -> str:
    """An invited person's requests for a new invitation (their office's admins hear of one a day)."""
    return f"renewal:{user_id}"


def once(services: Services, key: str, *, window_s: int) -> bool:
    """True for the first use of `key` in a window of `window_s` (and when Redis is unreachable)."""
    try:
        return services.failures.failed([key], limit=1, window_s=window_s)
    except TransientError:
        logger.warning("signin limits unavailable: not enforced", extra={"operation": "once"})
        return True


def clear_account(services: Services, email: str) -> None:
    """Forget the account's failures (after a password reset by email)."""
    try:
        services.failures.clear(account(email), window_s=services.settings.signin_failure_window_s)
    except TransientError:
        logger.warning("signin limits unavailable: not enforced", extra={"operation": "clear"})


@contextmanager
def no_sooner_than(seconds: float, *, always: bool = False) -> Iterator[None]:
    """Answer a failure (or, with `always`, any outcome) no sooner than `seconds` after the start: an
    unknown email or a disabled login, which Supabase Auth refuses without hashing the password, then
    takes as long as a wrong password, and a recovery as long whether or not the email is known."""
    started = time.monotonic()
    try:
        yield
    except Exception:
        time.sleep(max(0.0, started + seconds - time.monotonic()))
        raise
    if always:
        time.sleep(max(0.0, started + seconds - time.monotonic()))
