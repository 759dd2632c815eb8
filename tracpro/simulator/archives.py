"""Archives of old runs, as rp-archiver writes them and the archives endpoint lists them.

What the real pieces do (nyaruka/rp-archiver `archives/archives.go`, `archives/runs.go`,
`runtime/config.go`; nyaruka/rapidpro `temba/api/v2/views.py` ArchivesEndpoint,
`ArchiveReadSerializer`, `temba/archives/models.py`):

- runs whose `modified_on` is older than the retention period (90 days by default,
  counted from midnight UTC) are archived: a *daily* archive per day and, once a month
  is wholly past the retention period, a *monthly* rollup of its days (the listing then
  leaves out the rolled-up daily archives);
- an archive file is gzipped JSON lines, one run per line ordered by (modified_on, id),
  in the API's run shape with three differences: no `start`, each value carries the
  `input` it came from, and dates are Postgres' JSON timestamps
  ("2017-08-12T19:11:59.890662+00:00", trailing zeros of the fraction dropped);
- the listing gives `type`, `start_date` (a date), `period` (daily/monthly),
  `record_count`, `size` (of the gzipped file), `hash` (its MD5) and `download_url`
  (a temporary S3 link, no token needed; null for an empty archive), newest first;
- where the archiver is configured to, archived runs are deleted from the database,
  so the runs endpoint no longer serves them (their flows' run counts keep them: the
  server's delete trigger only takes back runs that were still active or waiting).

Message archives are listed by the server too; the simulator has none (its messages
are all recent).
"""

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .clock import DAY_US, US, fmt_full
from .store import EXIT_TYPES, WAITING, OrgStore

RETENTION_DAYS = 90  # rp-archiver's default


@dataclass
class Archive:
    period: str  # daily or monthly
    start: date
    rids: list[int] = field(default_factory=list)
    content: bytes | None = None  # the gzipped file, made when first asked for

    @property
    def name(self) -> str:
        return f"run_{self.period}_{self.start.isoformat()}.jsonl.gz"


def archive_old_runs(store: OrgStore, now: int, retention_days: int, delete: bool) -> None:
    """Archive the finished runs older than the retention period (and, with `delete`,
    take them out of the API), as rp-archiver does once a day."""
    midnight = now - now % DAY_US
    cutoff = midnight - retention_days * DAY_US
    runs = store.runs
    by_day: dict[date, list[int]] = {}
    for row in range(len(runs)):
        modified = runs.modified[row]
        if runs.exit_type[row] == WAITING or modified >= cutoff or runs.deleted[row]:
            continue
        by_day.setdefault(_day(modified), []).append(row + 1)
    last_day = _day(cutoff - 1)
    archives = []
    if by_day:
        day = min(by_day)
        while day <= last_day:
            month_end = _next_month(day)
            if month_end.toordinal() - 1 <= last_day.toordinal():  # the whole month is past
                archives.append(_monthly(day, by_day))
                day = month_end
            else:
                archives.append(Archive("daily", day, by_day.get(day, [])))
                day = date.fromordinal(day.toordinal() + 1)
    for archive in archives:
        archive.rids.sort(key=lambda rid: (runs.modified[rid - 1], rid))
        content(store, archive)  # written once, like the archiver: listings stay quick
    store.archives = sorted(archives, key=lambda a: (a.start, a.period), reverse=True)
    if delete:
        for archive in archives:
            for rid in archive.rids:
                store.archive_run(rid)


def _day(us: int) -> date:
    return datetime.fromtimestamp(us // US, UTC).date()


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _monthly(day: date, by_day: dict[date, list[int]]) -> Archive:
    first = day.replace(day=1)
    end = _next_month(first)
    rids = [rid for d, found in by_day.items() if first <= d < end for rid in found]
    return Archive("monthly", first, rids)


def content(store: OrgStore, archive: Archive) -> bytes:
    """The archive's gzipped JSON lines (empty for an empty archive)."""
    if archive.content is None and archive.rids:
        lines = "".join(record_line(store, rid) + "\n" for rid in archive.rids)
        archive.content = gzip.compress(lines.encode(), compresslevel=6, mtime=0)
    return archive.content or b""


def listing(store: OrgStore, period: str | None, kind: str | None) -> list[dict]:
    """The archives endpoint's results; `download_url` is a path the server makes absolute."""
    found = []
    for archive in store.archives:
        if (period and archive.period != period) or (kind and kind != "run"):
            continue
        data = content(store, archive)
        found.append(
            {
                "type": "run",
                "start_date": archive.start.isoformat(),
                "period": archive.period,
                "record_count": len(archive.rids),
                "size": len(data),
                "hash": hashlib.md5(data).hexdigest() if data else None,  # noqa: S324 - as S3
                "download_url": f"/sim/archives/{store.org.slug}/{archive.name}" if data else None,
                "archive_type": "run",
            }
        )
    return found


def by_name(store: OrgStore, name: str) -> Archive | None:
    return next((a for a in store.archives if a.name == name and a.rids), None)


def fmt_pg(us: int | None) -> str | None:
    """A timestamptz as Postgres' row_to_json writes it."""
    if us is None:
        return None
    text = fmt_full(us)[:-1]  # "2017-08-12T19:11:59.890662"
    text = text[:-7] if us % US == 0 else text.rstrip("0")
    return text + "+00:00"


def record_line(store: OrgStore, rid: int) -> str:
    """One run as rp-archiver's sqlLookupRuns writes it."""
    runs, row = store.runs, rid - 1
    flow = store.flows[runs.flow[row]]
    contact = store.contacts[runs.contact[row] - 1]
    nodes = flow.compiled.node_uuids
    walk = store.walk_run(rid)
    record = {
        "id": rid,
        "uuid": store.run_uuids.make(rid),
        "flow": {"uuid": flow.uuid, "name": flow.name},
        "contact": {"uuid": contact.uuid, "name": contact.name},
        "responded": walk.responded,
        "path": [{"node": nodes[i], "time": fmt_pg(t)} for i, t in walk.path],
        "values": {
            key: {
                "name": name,
                "value": value,
                "input": given,
                "time": fmt_pg(t),
                "category": category or None,
                "node": nodes[node],
            }
            for key, (name, value, category, node, t, given) in walk.values.items()
        },
        "created_on": fmt_pg(runs.created[row]),
        "modified_on": fmt_pg(runs.modified[row]),
        "exited_on": fmt_pg(runs.exited[row] or None),
        "exit_type": EXIT_TYPES[runs.exit_type[row]],
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
