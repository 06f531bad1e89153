"""Today's date as the server sees it (UTC), asked when a test runs: never fixed when a module is imported, since a
suite that starts before midnight runs some of its tests after it."""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
