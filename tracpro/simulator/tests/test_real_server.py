"""What a real RapidPro server does, and the simulator now does too.

Each test names the server code it follows (nyaruka/rapidpro, goflow, rp-archiver);
shared/design/real-server-notes.md lists where they were found.
"""

import gzip
import hashlib
import json
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from temba_client.exceptions import TembaRateExceededError

from tracpro.simulator.engine import snakify
from tracpro.simulator.testing import running_simulator

from .conftest import NOW, Raw


def flow_named(client, name):
    return next(f for f in client.get_flows().all() if f.name == name)


@pytest.mark.parametrize(
    "name, key",
    [
        ("How many?", "how_many_"),  # goflow utils/text.go Snakify: nothing stripped
        ("Girls per 100 Boys", "girls_per_100_boys"),
        ("  Ward (Sub-county)  ", "ward_sub_county_"),
        ("a _b", "a__b"),  # "_" is kept, each other run becomes one "_"
        ("Élèves présents", "élèves_présents"),  # any letter, not only ASCII
        ("x" * 70, "x" * 70),  # not cut
    ],
)
def test_it_makes_result_keys_like_goflow(name, key):
    assert snakify(name) == key


def test_a_timed_out_wait_has_the_time_it_timed_out_as_value(client):
    """goflow flows/routers/base.go RouteTimeout: FormatISO(timedOutOn) until b606cb3c."""
    attendance = flow_named(client, "Attendance")
    timed_out = [
        run.values["absent_pupils"]
        for run in client.get_runs(flow=attendance.uuid).all()
        if "absent_pupils" in run.values and run.values["absent_pupils"].category == "No Response"
    ]
    assert timed_out
    for value in timed_out:
        assert datetime.fromisoformat(value.value) == value.time


def test_results_set_by_actions_are_results_of_the_flow_and_the_runs(client):
    """goflow flows/actions/set_run_result.go: Inspect adds the result; Execute saves it."""
    attendance = flow_named(client, "Attendance")
    results = {r.key: r for r in attendance.results}
    assert list(results) == ["absent_pupils", "absence_rate"]
    assert results["absence_rate"].categories == []
    runs = [r for r in client.get_runs(flow=attendance.uuid).all() if "absence_rate" in r.values]
    assert runs
    for run in runs:
        absent = Decimal(run.values["absent_pupils"].value)
        rate = (absent / 40 * 100).quantize(Decimal(1), ROUND_HALF_UP)
        assert Decimal(run.values["absence_rate"].value) == rate
        assert run.values["absence_rate"].category is None


def test_a_flow_may_rename_its_timeout_category(sim):
    rating = flow_named(sim.client("health"), "Service Rating")
    assert rating.results[0].categories[-1] == "Timed Out"
    values = [
        r.values["rating"]
        for r in sim.client("health").get_runs(flow=rating.uuid).all()
        if "rating" in r.values
    ]
    assert any(v.category == "Timed Out" for v in values)


def test_voice_flows_have_menu_keypad_and_recording_results(sim, client):
    """temba/api/v2/serializers.py FlowReadSerializer: type voice; the editor's voice
    waits carry a hint (digits with a count, digits with a terminator, audio)."""
    call = flow_named(client, "School Visit Call")
    assert call.type == "voice"
    [definition] = client.get_definitions(flows=[call.uuid], dependencies="none").flows
    assert definition["type"] == "voice"
    hints = [n["router"]["wait"]["hint"] for n in definition["nodes"] if "router" in n]
    assert hints == [
        {"type": "digits", "count": 1},
        {"type": "digits", "terminated_by": "#"},
        {"type": "audio"},
    ]
    runs = client.get_runs(flow=call.uuid, responded=True).all()
    recordings = [r.values["visit_report"].value for r in runs if "visit_report" in r.values]
    assert recordings and all(url.startswith(sim.base_url + "/sim/media/") for url in recordings)
    assert {r.values["school_open"].value for r in runs} <= {"1", "2", "3"}
    audio = requests.get(recordings[0], timeout=10)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE"


def test_boundaries_come_with_wards_and_full_geometry(raw):
    """temba/api/v2/views.py BoundariesEndpoint: the root and every descendant, geometry
    always (its `geometry` parameter is gone)."""
    results = raw.get("boundaries", geometry="false").json()["results"]
    levels = sorted({b["level"] for b in results})
    assert levels == [0, 1, 2, 3]
    wards = [b for b in results if b["level"] == 3]
    assert {b["parent"]["name"] for b in wards} == {"Kampala"}
    assert all(b["geometry"]["type"] == "MultiPolygon" for b in results)


def test_it_can_serve_ten_thousand_boundaries_in_pages_the_client_reads_in_time():
    with running_simulator(seed=2, contacts=20, runs=0, now=NOW, boundaries=10_000) as big:
        started = time.monotonic()
        boundaries = big.client("edu").get_boundaries(geometry=True).all()
        assert len(boundaries) == 10_000
        assert time.monotonic() - started < 60
        pages = big.stats()["server_ms"]["boundaries"]
        assert pages["count"] == 40 and pages["max"] < 30_000


def test_a_flows_run_counts_keep_the_runs_of_deleted_contacts(fresh_sim):
    """temba/sql/current_functions.sql temba_flowrun_on_delete: only runs still active
    or waiting are taken back from the flow's counts."""
    client = fresh_sim.client("edu")
    flow = flow_named(client, "Attendance")
    before = sum(vars(flow.runs).values())
    contact = next(c for c in client.get_contacts().all() if c.groups)
    mine = [r for r in client.get_runs(flow=flow.uuid).all() if r.contact.uuid == contact.uuid]
    assert mine
    Raw(fresh_sim).delete("contacts", uuid=contact.uuid)
    after = flow_named(client, "Attendance")
    assert sum(vars(after.runs).values()) == before
    assert len(client.get_runs(flow=flow.uuid).all()) == before - len(mine)


def test_it_throttles_each_workspace_and_scope_apart(fresh_sim):
    """temba/settings_common.py DEFAULT_THROTTLE_RATES (v2, v2.contacts, v2.messages,
    v2.runs) and temba/api/support.py OrgUserRateThrottle (one history per workspace)."""
    fresh_sim.faults(mode="rate_limit", requests=2, window=60, per="scope")
    edu = fresh_sim.client("edu")
    edu.get_runs().first()
    edu.get_runs().first()
    with pytest.raises(TembaRateExceededError) as throttled:
        edu.get_runs().first()
    assert 55 <= throttled.value.retry_after <= 60
    edu.get_contacts().first()  # another scope
    edu.get_flows().first()  # "v2"
    edu.get_groups().first()
    with pytest.raises(TembaRateExceededError):
        edu.get_fields().first()  # "v2" again: its third request
    fresh_sim.client("health").get_runs().first()  # another workspace


def test_some_writes_become_visible_only_later():
    """A read replica and many writers: a run written at t shows after later ones."""
    with running_simulator(
        seed=4, contacts=60, runs=300, now=NOW, late_share=0.5, late_seconds=20
    ) as late:
        client = late.client("edu")
        seen = {r.uuid for r in client.get_runs().all()}
        late.add_runs("edu", 40)
        visible = {r.uuid for r in client.get_runs().all()}
        truth = late.summary("edu")["runs"]
        assert len(visible) < truth  # some of the new runs are not visible yet
        newest = max(r.modified_on for r in client.get_runs().all() if r.uuid not in seen)
        late.simulator.clock.advance(25)  # time passes, nothing else happens
        everything = client.get_runs().all()
        assert len(everything) == late.summary("edu")["runs"]
        hidden = [r for r in everything if r.uuid not in visible and r.uuid not in seen]
        assert hidden and min(r.modified_on for r in hidden) < newest


@pytest.fixture(scope="module")
def archived():
    with running_simulator(
        seed=5, contacts=80, runs=1200, now=NOW, archive_days=30, delete_archived=True
    ) as handle:
        yield handle


def test_it_lists_run_archives_in_the_servers_shape(archived):
    """temba/api/v2/views.py ArchivesEndpoint and ArchiveReadSerializer."""
    listing = Raw(archived).get("archives", type="run").json()
    assert set(listing) == {"count", "next", "previous", "results"}
    archives = listing["results"]
    assert {a["period"] for a in archives} == {"daily", "monthly"}
    starts = [a["start_date"] for a in archives]
    assert starts == sorted(starts, reverse=True)
    for archive in archives:
        assert set(archive) == {
            "type",
            "start_date",
            "period",
            "record_count",
            "size",
            "hash",
            "download_url",
            "archive_type",
        }
    client_view = archived.client("edu").get_archives(type="run").all()
    assert sum(a.record_count for a in client_view) == sum(a["record_count"] for a in archives)
    assert Raw(archived).get("archives", type="message").json()["results"] == []


def test_archive_files_are_gzipped_json_lines_of_runs(archived):
    """rp-archiver archives/runs.go sqlLookupRuns: no start, values with their input,
    Postgres' JSON dates; archives/s3.go: the size and MD5 of the gzipped file."""
    archive = next(a for a in archived.client("edu").get_archives(type="run").all() if a.size)
    download = requests.get(archive.download_url, timeout=30)  # an S3 link: no token
    assert download.status_code == 200
    assert len(download.content) == archive.size
    assert hashlib.md5(download.content).hexdigest() == archive.hash  # noqa: S324
    records = [json.loads(line) for line in gzip.decompress(download.content).splitlines()]
    assert len(records) == archive.record_count
    assert list(records[0]) == [
        "id",
        "uuid",
        "flow",
        "contact",
        "responded",
        "path",
        "values",
        "created_on",
        "modified_on",
        "exited_on",
        "exit_type",
    ]
    modified = [r["modified_on"] for r in records]
    assert all(m.endswith("+00:00") for m in modified)
    assert [datetime.fromisoformat(m) for m in modified] == sorted(
        datetime.fromisoformat(m) for m in modified
    )
    answered = [v for r in records for v in r["values"].values() if v["input"] is not None]
    assert answered and all(set(v) >= {"name", "value", "input", "category"} for v in answered)
    assert all(r["exit_type"] is not None for r in records)


def test_archived_runs_are_deleted_from_the_runs_endpoint_and_still_counted(archived):
    client = archived.client("edu")
    archived_count = sum(a.record_count for a in client.get_archives(type="run").all())
    served = client.get_runs().all()
    truth = archived.summary("edu")
    assert archived_count > 0
    assert len(served) + archived_count == truth["runs"]
    cutoff = datetime(2025, 5, 3, tzinfo=UTC)  # midnight of NOW's day, minus 30 days
    assert all(r.modified_on >= cutoff or r.exit_type is None for r in served)
