"""Time as integer microseconds since the epoch (UTC), and its API formats."""

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

US = 1_000_000
DAY_US = 86_400 * US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_day_prefixes: dict[int, str] = {}


def to_us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def _day_prefix(day: int) -> str:
    prefix = _day_prefixes.get(day)
    if prefix is None:
        prefix = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + "T"
        _day_prefixes[day] = prefix
    return prefix


_CLOCK_FACES = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400)]


def fmt_full(us: int) -> str:
    """Engine times (run path and values): always six fractional digits."""
    secs, micro = divmod(us, US)
    day, sod = divmod(secs, 86_400)
    prefix = _day_prefixes.get(day) or _day_prefix(day)
    return f"{prefix}{_CLOCK_FACES[sod]}{micro:06d}Z"


def fmt_drf(us: int | None) -> str | None:
    """DRF DateTimeField output: isoformat(), so no fraction when microsecond is 0."""
    if us is None:
        return None
    text = fmt_full(us)
    return text[:-8] + "Z" if us % US == 0 else text


def fmt_local(us: int, offset_hours: int) -> str:
    """The engine's datetime field format, in the org's timezone."""
    text = fmt_full(us + offset_hours * 3600 * US)[:-1]
    return f"{text}{'+' if offset_hours >= 0 else '-'}{abs(offset_hours):02d}:00"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_datetime(text: str) -> int | None:
    """Parse an ISO 8601 query value like the server does; None when unparseable."""
    text = text.strip()
    if not text:
        return None
    try:
        if _DATE_ONLY.match(text):
            return to_us(datetime.fromisoformat(text).replace(tzinfo=UTC))
        return to_us(datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:
        return None


def wall_us() -> int:
    return time.time_ns() // 1000


class Clock:
    """Strictly increasing time for writes.

    Real mode follows the wall clock; fixed mode (tests, `--now`) only moves when
    `advance()` is called, so the same writes give the same timestamps.
    """

    def __init__(self, anchor_us: int, fixed: bool) -> None:
        self.anchor = anchor_us
        self.fixed = fixed
        self.virtual = anchor_us
        self.last = anchor_us
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            base = self.virtual if self.fixed else wall_us()
            self.last = max(base, self.last + 1)
            return self.last

    def peek(self) -> int:
        """Now, for reads: like now() but without taking a timestamp."""
        with self._lock:
            return max(self.virtual if self.fixed else wall_us(), self.last)

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self.fixed:
                self.virtual = max(self.virtual, self.last) + int(seconds * US)

    def observe(self, us: int) -> None:
        """Replaying a recorded write: time never goes back behind it."""
        with self._lock:
            self.last = max(self.last, us)
            if self.fixed:
                self.virtual = max(self.virtual, us)
