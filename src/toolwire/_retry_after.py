"""How long a server asked us to wait: the ``Retry-After`` header, in one place.

Both outbound edges read it (the model clients in ``models/``, the HTTP tools in ``remote/``),
so the rules live below both: a number of seconds or an HTTP date (RFC 9110 §10.2.3), and the
``retry-after-ms`` extension the OpenAI and Anthropic APIs send. No HTTP library is imported
here, so reading it costs neither edge an import.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["retry_after", "retry_after_seconds"]


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` value as seconds from now (never negative), or None when absent or bad.

    >>> retry_after_seconds("2.5")
    2.5
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT")
    0.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a response's headers: ``retry-after-ms`` first, then ``Retry-After``.

    Header names are matched case-insensitively, whatever mapping the HTTP client hands over.

    >>> retry_after({"Retry-After-Ms": "1500", "Retry-After": "9"})
    1.5
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    return retry_after_seconds(lowered.get("retry-after"))
