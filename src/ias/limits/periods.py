"""Windows and months, the two periods limits count over, from a Unix time in seconds.

Windows are fixed and aligned to the epoch (window id = floor(t / length)), so every replica
that reads the same clock agrees on them. Months are UTC calendar months named "YYYYMM".
"""

from __future__ import annotations

import calendar
import time

WINDOW_SECONDS = 60
# A monthly counter outlives its month by a few days so that late settlements still land.
MONTH_KEY_SECONDS = 35 * 86400


def month_of(epoch_seconds: float) -> str:
    moment = time.gmtime(epoch_seconds)
    return f"{moment.tm_year:04d}{moment.tm_mon:02d}"


def month_start(month: str) -> int:
    return calendar.timegm((int(month[:4]), int(month[4:]), 1, 0, 0, 0))


def month_end(month: str) -> int:
    year, number = int(month[:4]), int(month[4:])
    if number == 12:
        year, number = year + 1, 0
    return calendar.timegm((year, number + 1, 1, 0, 0, 0))
