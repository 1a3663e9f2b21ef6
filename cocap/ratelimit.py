"""Counters of requests per hour, kept in the database cache so that every gunicorn worker sees the same."""

import hashlib
import math
import time

from django.core.cache import caches

CACHE = "limits"
WINDOW_SECONDS = 60 * 60


def limit_key(scope: str, value: str) -> str:
    """A cache key for `value` (an address, a client IP) that does not store the value itself."""
    return f"{scope}:{hashlib.sha256(value.encode()).hexdigest()}"


def limits_allow(limits: dict[str, int]) -> bool:
    """Count one request against each key's hourly limit; if any is used up, count nothing and return False.

    Each key's hour starts at its first request. Two requests at the same instant may both pass the last
    free place: the limits are there against floods, not to be exact.
    """
    cache = caches[CACHE]
    now = time.time()
    counted = {}
    for key, limit in limits.items():
        count, ends = cache.get(key) or (0, now + WINDOW_SECONDS)
        if ends <= now:
            count, ends = 0, now + WINDOW_SECONDS
        if count >= limit:
            return False
        counted[key] = (count + 1, ends)
    for key, (count, ends) in counted.items():
        # Set with the time left, not incr(): incr() would give the key the cache's default timeout.
        cache.set(key, (count, ends), timeout=math.ceil(ends - now))
    return True
