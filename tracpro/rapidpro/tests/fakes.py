"""A small in-memory RapidPro for unit tests, patched in at the seam
(`tracpro.rapidpro.client.get_client`).

It holds server-shaped JSON items and serves them through rapidpro-python's own
`CursorQuery`, so paging, cursors and deserialization are the real client's.
"""

import itertools
import uuid as uuid_module
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlparse

from temba_client.base import CursorQuery
from temba_client.v2 import TembaClient
from temba_client.v2.types import (
    Archive,
    Boundary,
    Contact,
    Export,
    Field,
    Flow,
    FlowStart,
    Group,
    Message,
    Org,
    Run,
)

BASE = "http://rapidpro.fake/api/v2"
KAMPALA_EVENING = datetime(2025, 3, 3, 19, 0, tzinfo=UTC)  # 22:00 in Kampala (UTC+3)
_ids = itertools.count(1)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_uuid() -> str:
    return str(uuid_module.uuid4())


class FakeRapidPro:
    """Enough of the API v2 for the syncers, with the server's filters and orderings."""

    page_size = 250

    def __init__(self) -> None:
        self.flows: list[dict] = []
        self.definitions: dict[str, dict] = {}
        self.runs: list[dict] = []
        self.contacts: list[dict] = []
        self.deleted_contacts: list[dict] = []
        self.groups: list[dict] = []
        self.fields: list[dict] = []
        self.boundaries: list[dict] = []
        self.messages: list[dict] = []
        self.archives: list[dict] = []
        self.flow_starts: list[dict] = []
        self.workspace: dict = {"uuid": new_uuid(), "name": "Fake", "timezone": "Africa/Kampala"}
        self.requests: list[tuple[str, dict]] = []

    # The client's API --------------------------------------------------------------------

    def get_org(self, retry_on_rate_exceed=False):
        self.requests.append(("org", {}))
        return Org.deserialize(self.workspace)

    def get_archives(self, type=None, period=None, before=None, after=None):
        return self._query("archives", Archive, type=type)

    def get_flow_starts(self, uuid=None):
        return self._query("flow_starts", FlowStart)

    def get_flows(self, uuid=None, type=None, archived=None):
        return self._query("flows", Flow, uuid=uuid)

    def get_definitions(self, flows=(), campaigns=(), dependencies=None):
        assert dependencies == "none", "send the string, a boolean is refused"
        self.requests.append(("definitions", {"flow": list(flows)}))
        wanted = [self.definitions[uuid] for uuid in flows if uuid in self.definitions]
        return Export.deserialize(
            {
                "version": "13",
                "flows": wanted,
                "campaigns": [],
                "triggers": [],
                "fields": [],
                "groups": [],
            }
        )

    def get_runs(
        self,
        uuid=None,
        flow=None,
        responded=None,
        before=None,
        after=None,
        reverse=None,
        paths=None,
    ):
        assert paths is None, "paths=False makes the client choke on path: null"
        return self._query("runs", Run, flow=flow, before=before, after=after, reverse=reverse)

    def get_contacts(
        self, uuid=None, urn=None, group=None, deleted=None, before=None, after=None, reverse=None
    ):
        return self._query(
            "contacts",
            Contact,
            group=group,
            deleted=deleted,
            before=before,
            after=after,
            reverse=reverse,
        )

    def get_groups(self, uuid=None, name=None):
        return self._query("groups", Group)

    def get_fields(self, key=None):
        return self._query("fields", Field)

    def get_boundaries(self, geometry=None):
        return self._query("boundaries", Boundary)

    def get_messages(self, uuid=None, folder=None, before=None, after=None):
        return self._query("messages", Message, folder=folder, before=before, after=after)

    def _query(self, endpoint: str, clazz, **params) -> CursorQuery:
        return CursorQuery(
            self, f"{BASE}/{endpoint}.json", TembaClient._build_params(**params), clazz, None
        )

    # What CursorIterator calls --------------------------------------------------------------

    def _request(self, method, url, params=None, body=None, retry_on_rate_exceed=False):
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        query.update(params or {})
        endpoint = parsed.path.rsplit("/", 1)[-1].removesuffix(".json")
        self.requests.append((endpoint, dict(query)))
        items = self._select(endpoint, query)
        offset = int(query.pop("cursor", 0))
        page = items[offset : offset + self.page_size]
        more = offset + self.page_size < len(items)
        next_url = (
            f"{BASE}/{endpoint}.json?{urlencode({**query, 'cursor': offset + self.page_size})}"
            if more
            else None
        )
        return {"next": next_url, "previous": None, "results": page}

    def _select(self, endpoint: str, query: dict) -> list[dict]:
        if endpoint == "runs":
            items = [
                r for r in self.runs if "flow" not in query or r["flow"]["uuid"] == query["flow"]
            ]
            return self._window(items, query, "modified_on")
        if endpoint == "contacts":
            items = self.deleted_contacts if query.get("deleted") in (1, "1") else self.contacts
            if "group" in query:
                items = [c for c in items if any(g["uuid"] == query["group"] for g in c["groups"])]
            return self._window(items, query, "modified_on")
        if endpoint == "messages":
            items = [m for m in self.messages if query.get("folder") in (None, "inbox")]
            return self._window(items, query, "created_on")
        if endpoint == "flows" and "uuid" in query:
            return [f for f in self.flows if f["uuid"] == query["uuid"]]
        return list(getattr(self, endpoint))

    @staticmethod
    def _window(items: list[dict], query: dict, field: str) -> list[dict]:
        if "after" in query:
            items = [i for i in items if i[field] >= query["after"]]
        if "before" in query:
            items = [i for i in items if i[field] <= query["before"]]
        ascending = query.get("reverse") in (1, "1")
        return sorted(items, key=lambda i: (i[field], i.get("id", 0)), reverse=not ascending)


# Server-shaped items ----------------------------------------------------------------------


def flow(
    name: str, results: list[dict] | None = None, archived: bool = False, uuid: str | None = None
) -> dict:
    return {
        "uuid": uuid or new_uuid(),
        "name": name,
        "type": "message",
        "archived": archived,
        "labels": [],
        "expires": 1440,
        "created_on": stamp(datetime(2025, 1, 1, tzinfo=UTC)),
        "modified_on": stamp(datetime(2025, 1, 2, tzinfo=UTC)),
        "runs": {
            "active": 0,
            "waiting": 0,
            "completed": 0,
            "interrupted": 0,
            "expired": 0,
            "failed": 0,
        },
        "results": results or [],
    }


def result(key: str, name: str, categories: list[str], node: str) -> dict:
    return {"key": key, "name": name, "categories": categories, "node_uuids": [node]}


def run(
    flow_item: dict,
    contact: dict | tuple[str, str],
    created: datetime,
    values: dict[str, tuple[str, str, datetime]] | None = None,
    modified: datetime | None = None,
    exit_type: str | None = "completed",
    start: str | None = None,
    uuid: str | None = None,
    responded: bool | None = None,
) -> dict:
    """A run; it `responded` (the contact sent something) unless all its values are
    timeouts."""
    contact_uuid, contact_name = (
        (contact["uuid"], contact["name"]) if isinstance(contact, dict) else contact
    )
    values = values or {}
    return {
        "id": next(_ids),
        "uuid": uuid or new_uuid(),
        "flow": {"uuid": flow_item["uuid"], "name": flow_item["name"]},
        "contact": {"uuid": contact_uuid, "name": contact_name, "urn": None},
        "start": {"uuid": start} if start else None,
        "responded": (
            any(category != "No Response" for _, category, _ in values.values())
            if responded is None
            else responded
        ),
        "path": [],
        "values": {
            key: {
                "name": key.title(),
                "value": value,
                "category": category,
                "node": new_uuid(),
                "time": stamp(at),
            }
            for key, (value, category, at) in values.items()
        },
        "created_on": stamp(created),
        "modified_on": stamp(modified or max([created, *(at for _, _, at in values.values())])),
        "exited_on": None,
        "exit_type": exit_type,
    }


def contact(
    name: str,
    groups: list[dict],
    modified: datetime,
    status: str = "active",
    urn: str | None = None,
    fields: dict | None = None,
    uuid: str | None = None,
) -> dict:
    return {
        "uuid": uuid or new_uuid(),
        "name": name,
        "status": status,
        "language": "eng",
        "urns": [urn or f"tel:+2567{next(_ids):08d}"],
        "groups": [{"uuid": g["uuid"], "name": g["name"]} for g in groups],
        "fields": fields or {},
        "flow": None,
        "created_on": stamp(modified),
        "modified_on": stamp(modified),
        "last_seen_on": None,
        "blocked": status == "blocked",
        "stopped": status == "stopped",
    }


def group(name: str, uuid: str | None = None) -> dict:
    return {
        "uuid": uuid or new_uuid(),
        "name": name,
        "query": None,
        "status": "ready",
        "system": False,
        "count": 0,
    }
