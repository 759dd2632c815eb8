"""HTTP: routing, token auth, pagination envelopes, faults, stats and /sim/ controls."""

import base64
import io
import json
import math
import sys
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import api, archives
from .api import ApiError, Listing, Query
from .faults import Decision, FaultError, Faults, break_item
from .pagination import page
from .sim import Simulator
from .store import OrgStore

READS = {
    "org": api.get_org,
    "workspace": api.get_org,
    "definitions": api.get_definitions,
    "flows": api.list_flows,
    "groups": api.list_groups,
    "fields": api.list_fields,
    "contacts": api.list_contacts,
    "runs": api.list_runs,
    "boundaries": api.list_boundaries,
    "messages": api.list_messages,
    "flow_starts": api.list_flow_starts,
    "broadcasts": api.list_broadcasts,
    "labels": api.list_labels,
    "archives": api.list_archives,
}
# routed by the server but empty here
EMPTY_LISTS = frozenset(
    [
        "campaigns",
        "campaign_events",
        "channels",
        "classifiers",
        "globals",
        "resthooks",
        "resthook_events",
        "resthook_subscribers",
        "tickets",
        "topics",
        "users",
    ]
)
WRITE_ONLY = frozenset({"contact_actions", "message_actions"})
JSON_TYPE = "application/json"
STATS_WAIT = 5.0  # seconds /sim/stats waits for requests in flight to be recorded
HTML_TYPE = "text/html; charset=utf-8"


class Stats:
    """Request counts per endpoint and status, server time per endpoint, and the
    API requests of each org (by its token) per endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.in_flight = 0  # API requests answered or being answered, not yet recorded
        self.reset()

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self._lock.notify_all()

    def reset(self) -> None:
        with self._lock:
            self.requests: dict[str, dict[str, int]] = {}
            self.timing: dict[str, list[float]] = {}
            self.by_org: dict[str, dict[str, int]] = {}

    def record(
        self, endpoint: str, status: int | str, elapsed_ms: float, org: str | None = None
    ) -> None:
        with self._lock:
            if org is not None:
                per_org = self.by_org.setdefault(org, {})
                per_org[endpoint] = per_org.get(endpoint, 0) + 1
            by_status = self.requests.setdefault(endpoint, {})
            by_status[str(status)] = by_status.get(str(status), 0) + 1
            entry = self.timing.setdefault(endpoint, [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += elapsed_ms
            entry[2] = max(entry[2], elapsed_ms)

    def as_json(self) -> dict:
        """The counts, once every request in flight is recorded: a request is recorded
        after its answer is sent, so a client may read the stats before that."""
        with self._lock:
            self._lock.wait_for(lambda: self.in_flight <= 0, timeout=STATS_WAIT)
            return {
                "total": sum(sum(s.values()) for s in self.requests.values()),
                "requests": {k: dict(v) for k, v in self.requests.items()},
                "server_ms": {
                    k: {
                        "count": c,
                        "total": round(t, 3),
                        "mean": round(t / c, 3),
                        "max": round(m, 3),
                    }
                    for k, (c, t, m) in self.timing.items()
                },
                "by_org": {k: dict(v) for k, v in self.by_org.items()},
            }


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], sim: Simulator, faults: Faults, verbose: bool = False
    ):
        self.sim = sim
        self.faults = faults
        self.stats = Stats()
        self.verbose = verbose
        super().__init__(address, Handler)

    def handle_error(self, request: object, client_address: tuple) -> None:
        """Clients that hang up (timeouts, Ctrl-C) are normal here: no traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError) and not self.verbose:
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RapidPro-Simulator/1.0"
    server: SimulatorServer

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- plumbing -------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        self.started = time.perf_counter()
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/api/v2/"):
            self._api(method, url.path, params, raw)
        elif method == "GET" and url.path.startswith(("/sim/media/", "/sim/archives/")):
            self._file(url.path)
        elif url.path == "/sim" or url.path.startswith("/sim/"):
            self._control(method, url.path.rstrip("/"), params, raw)
        else:
            self._send(404, b"<h1>Not Found</h1>", HTML_TYPE)

    def _elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = JSON_TYPE,
        headers=None,
        announce: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if announce is None else announce))
        self.send_header("X-Sim-Elapsed-Ms", f"{self._elapsed_ms():.3f}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, status: int, payload: object, headers=None) -> None:
        body = b"" if payload is None else _dumps(payload)
        self._send(status, body, headers=headers)

    # -- API ------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, params: dict, raw: bytes) -> None:
        name = path.removeprefix("/api/v2/")
        if not name.endswith(".json"):
            page_html = (
                f"<html><body><h1>RapidPro API v2 (simulated)</h1><p>The simulator serves only"
                f" JSON: use <code>/api/v2/{name.rstrip('/')}.json</code>.</p></body></html>"
            )
            self._send(404, page_html.encode(), HTML_TYPE)
            return
        endpoint = name.removesuffix(".json")
        self.server.stats.begin()
        try:
            self._api_call(method, endpoint, params, raw)
        finally:
            self.server.stats.end()

    def _api_call(self, method: str, endpoint: str, params: dict, raw: bytes) -> None:
        known = endpoint in READS or endpoint in EMPTY_LISTS or endpoint in WRITE_ONLY
        if not known:
            self._json(404, {"detail": "Not found."})
            self.server.stats.record(endpoint, 404, self._elapsed_ms())
            return
        store = self._authenticate()
        if store is None:
            self._json(403, {"detail": "Invalid token"})
            self.server.stats.record(endpoint, 403, self._elapsed_ms())
            return
        decision = self.server.faults.decide(endpoint, store.org.slug, method, "cursor" in params)
        status = self._respond(method, endpoint, store, params, raw, decision)
        self.server.stats.record(endpoint, status, self._elapsed_ms(), store.org.slug)

    def _authenticate(self) -> OrgStore | None:
        header = self.headers.get("Authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        token = None
        if scheme.lower() in ("token", "bearer"):
            token = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                token = base64.b64decode(credentials).decode().partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                token = None
        return self.server.sim.tokens.get(token) if token else None

    def _respond(self, method, endpoint, store, params, raw, decision: Decision) -> int | str:
        if decision.delay:
            time.sleep(decision.delay)
        if decision.disconnect:
            self.close_connection = True
            return "disconnect"
        if decision.status == 429:
            seconds = decision.retry_after
            self._json(
                429,
                {"detail": f"Request was throttled. Expected available in {seconds} seconds."},
                {"Retry-After": str(seconds)},
            )
            return 429
        if decision.status:
            self._send(
                decision.status, f"<h1>Server Error ({decision.status})</h1>".encode(), HTML_TYPE
            )
            return decision.status
        headers = {"X-Temba-Workspace": store.org.uuid}
        try:
            status, payload = self._dispatch(method, endpoint, store, params, raw, decision)
        except ApiError as error:
            status, payload = error.status, error.payload
        if status == 200 and decision.body_faults and isinstance(payload, dict):
            return self._faulty(status, endpoint, payload, decision, headers)
        self._json(status, payload, headers)
        return status

    def _dispatch(self, method, endpoint, store, params, raw, decision):
        if method == "GET" and endpoint not in WRITE_ONLY:
            return 200, self._read(endpoint, store, params, decision)
        if method in ("POST", "DELETE"):
            body = _parse_body(raw) if method == "POST" else None
            return self.server.sim.write(store, endpoint, method, params, body)
        raise ApiError(405, {"detail": f'Method "{method}" not allowed.'})

    def _read(self, endpoint: str, store: OrgStore, params: dict, decision: Decision) -> dict:
        query = Query(params)
        if endpoint in EMPTY_LISTS:
            listing: object = api.EMPTY
        else:
            with self.server.sim.lock:
                listing = READS[endpoint](store, query)
        if endpoint == "archives":
            for item in listing:
                if item["download_url"]:
                    item["download_url"] = self._absolute(item["download_url"])
            return self._limit_offset(listing, params)
        if not isinstance(listing, Listing):
            return listing
        cursor = query.get("cursor")
        with self.server.sim.lock:
            keys, after, before = page(listing, cursor, duplicate=decision.duplicate is not None)
            if listing.encode is not None and not decision.body_faults:
                results: list = [Fragment(listing.encode(key)) for key in keys]
            else:
                results = [listing.fetch(key) for key in keys]
        return {
            "next": self._url(params, after),
            "previous": self._url(params, before),
            "results": results,
        }

    def _limit_offset(self, items: list, params: dict) -> dict:
        query = Query(params)
        try:
            limit = max(1, min(int(query.get("limit") or api.PAGE_SIZE), api.PAGE_SIZE))
            offset = max(0, int(query.get("offset") or 0))
        except ValueError:
            limit, offset = api.PAGE_SIZE, 0
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        next_url = (
            self._url(params, None, {"limit": limit, "offset": offset + limit}) if more else None
        )
        previous = None
        if offset > 0:
            previous = self._url(params, None, {"limit": limit, "offset": max(0, offset - limit)})
        return {"count": len(items), "next": next_url, "previous": previous, "results": chunk}

    def _url(self, params: dict, cursor: str | None, extra: dict | None = None) -> str | None:
        if cursor is None and extra is None:
            return None
        skip = {"cursor", "limit", "offset"}
        pairs = [(k, v) for k, values in params.items() if k not in skip for v in values]
        if cursor is not None:
            pairs.append(("cursor", cursor))
        pairs.extend((extra or {}).items())
        path = urlsplit(self.path).path
        return self._absolute(f"{path}?{urlencode(pairs)}")

    def _absolute(self, path: str) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}{path}"

    # -- files: recordings and archives (served like S3: no token) ----------------------------

    def _file(self, path: str) -> None:
        parts = path.strip("/").split("/")  # sim, media|archives, org, name
        store = self.server.sim.orgs.get(parts[2]) if len(parts) == 4 else None
        if store is None:
            self._send(404, b"<h1>Not Found</h1>", HTML_TYPE)
            return
        if parts[1] == "media":
            self._send(200, recording(), "audio/wav", {"Cache-Control": "max-age=86400"})
            return
        with self.server.sim.lock:
            found = archives.by_name(store, parts[3])
            body = archives.content(store, found) if found else None
        if body is None:
            self._send(404, b"<h1>Not Found</h1>", HTML_TYPE)
            return
        # as the server's presigned S3 links ask: a download, not to be decompressed
        headers = {"Content-Disposition": "attachment;", "Content-Encoding": "none"}
        self._send(200, body, "application/octet", headers)

    def _faulty(
        self, status: int, endpoint: str, payload: dict, decision: Decision, headers
    ) -> int:
        cut = None
        for rule in decision.body_faults:
            if rule.mode == "broken_item":
                break_item(endpoint, payload, rule)
            else:
                cut = rule.mode
        body = _dumps(payload)
        if cut == "malformed":
            self._send(status, body[: len(body) // 2], headers=headers)
        elif cut == "truncate":
            self._send(status, body[: len(body) // 2], headers=headers, announce=len(body))
            self.close_connection = True
        else:
            self._send(status, body, headers=headers)
        return status

    # -- /sim/ controls -------------------------------------------------------------------------

    def _control(self, method: str, path: str, params: dict, raw: bytes) -> None:
        sim = self.server.sim
        route = (method, path.removeprefix("/sim"))
        try:
            body = _parse_body(raw) if raw.strip() else {}
            handler = CONTROLS.get(route)
            if handler is None:
                raise ApiError(404, {"detail": f"No control endpoint {method} {path}"})
            status, payload = handler(self, sim, Query(params), body)
        except ApiError as error:
            status, payload = error.status, error.payload
        self._json(status, payload)

    def _org(self, slug: object) -> OrgStore:
        store = self.server.sim.orgs.get(str(slug))
        if store is None:
            raise ApiError(
                404, {"detail": f"No org {slug!r}; choose from {', '.join(self.server.sim.orgs)}"}
            )
        return store


class Fragment(str):
    """A result already encoded as JSON text."""


_RECORDING: list[bytes] = []


def recording() -> bytes:
    """Every recording the simulator serves: a second of a quiet 440 Hz tone (WAV)."""
    if not _RECORDING:
        rate = 8000
        samples = bytes(
            int(128 + 40 * math.sin(2 * math.pi * 440 * i / rate) * min(1, (rate - i) / 800))
            for i in range(rate)
        )
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(1)
            out.setframerate(rate)
            out.writeframes(samples)
        _RECORDING.append(buffer.getvalue())
    return _RECORDING[0]


def _dumps(payload: object) -> bytes:
    results = payload.get("results") if isinstance(payload, dict) else None
    if results and isinstance(results[0], Fragment):
        head = json.dumps(
            {k: v for k, v in payload.items() if k != "results"}, separators=(",", ":")
        )
        return f'{head[:-1]},"results":[{",".join(results)}]}}'.encode()
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _parse_body(raw: bytes) -> object:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, {"detail": f"JSON parse error - {error}"}) from error


def _body_dict(body: object) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, {"detail": "Expected a JSON object"})
    return body


def _orgs(handler: Handler, sim: Simulator, query: Query, body: object):
    return 200, sim.org_list()


def _health(handler: Handler, sim: Simulator, query: Query, body: object):
    return 200, {"status": "ok", "build_seconds": round(sim.build_seconds, 3), "ops": len(sim.ops)}


def _summary(handler: Handler, sim: Simulator, query: Query, body: object):
    slug = query.get("org")
    with sim.lock:
        if slug:
            return 200, handler._org(slug).summary()
        return 200, {s: store.summary() for s, store in sim.orgs.items()}


def _tick(handler: Handler, sim: Simulator, query: Query, body: object):
    slug = _body_dict(body).get("org")
    if slug is not None:
        handler._org(slug)
    return 200, {"ticks": sim.tick(slug)}


def _add_runs(handler: Handler, sim: Simulator, query: Query, body: object):
    data = _body_dict(body)
    store = handler._org(data.get("org", "edu"))
    try:
        count = int(data.get("count", 1))
    except (TypeError, ValueError) as error:
        raise ApiError(400, {"detail": "count must be an integer"}) from error
    if not 0 <= count <= 1_000_000:
        raise ApiError(400, {"detail": "count must be between 0 and 1000000"})
    return 200, sim.add_runs(store.org.slug, count)


def _reset(handler: Handler, sim: Simulator, query: Query, body: object):
    sim.reset()
    sim.save_state(force=True)
    return 200, {"status": "reset", "build_seconds": round(sim.build_seconds, 3)}


def _save(handler: Handler, sim: Simulator, query: Query, body: object):
    return 200, {"saved": sim.save_state(force=True), "ops": len(sim.ops)}


def _faults_get(handler: Handler, sim: Simulator, query: Query, body: object):
    faults = handler.server.faults
    return 200, {"faults": faults.describe(), "fired": dict(faults.fired)}


def _faults_add(handler: Handler, sim: Simulator, query: Query, body: object):
    try:
        return 200, {"faults": handler.server.faults.add(body)}
    except FaultError as error:
        raise ApiError(400, {"detail": str(error)}) from error


def _faults_clear(handler: Handler, sim: Simulator, query: Query, body: object):
    handler.server.faults.clear()
    return 200, {"faults": []}


def _stats(handler: Handler, sim: Simulator, query: Query, body: object):
    return 200, {
        **handler.server.stats.as_json(),
        "faults_fired": dict(handler.server.faults.fired),
    }


def _stats_reset(handler: Handler, sim: Simulator, query: Query, body: object):
    handler.server.stats.reset()
    return 200, handler.server.stats.as_json()


CONTROLS = {
    ("GET", "/orgs"): _orgs,
    ("GET", "/health"): _health,
    ("GET", "/summary"): _summary,
    ("POST", "/tick"): _tick,
    ("POST", "/runs"): _add_runs,
    ("POST", "/reset"): _reset,
    ("POST", "/save"): _save,
    ("GET", "/faults"): _faults_get,
    ("POST", "/faults"): _faults_add,
    ("DELETE", "/faults"): _faults_clear,
    ("GET", "/stats"): _stats,
    ("POST", "/stats/reset"): _stats_reset,
}
