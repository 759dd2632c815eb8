"""Reading through the real rapidpro-python client, one test per method TracPro uses."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from temba_client.exceptions import TembaBadRequestError, TembaNoSuchObjectError, TembaTokenError
from temba_client.v2 import TembaClient

from tracpro.simulator.testing import running_simulator

from .conftest import NOW

DRF_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
ENGINE_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def flow_named(client, name):
    return next(f for f in client.get_flows().all() if f.name == name)


def test_it_serves_the_org_through_get_org(client, raw):
    org = client.get_org()
    assert org.name == "Uganda Education Monitoring"
    assert org.country == "UG" and org.timezone == "Africa/Kampala"
    assert org.languages == ["eng", "fra", "ara"] and org.primary_language == "eng"
    assert raw.get("workspace").json() == raw.get("org").json()
    assert raw.get("org").headers["X-Temba-Workspace"] == org.uuid


def test_it_answers_403_invalid_token_for_a_bad_or_missing_token(sim):
    with pytest.raises(TembaTokenError):
        TembaClient(sim.base_url, "not-a-token").get_org()
    import requests

    response = requests.get(f"{sim.base_url}/api/v2/runs.json", timeout=10)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token"}


def test_it_lists_flows_with_results_and_run_counts(client):
    flows = client.get_flows().all()
    names = [f.name for f in flows]
    assert {"Enrolment", "Attendance", "Textbooks", "Feedback", "Single Message"} <= set(names)
    enrolment = flow_named(client, "Enrolment")
    assert [r.key for r in enrolment.results] == ["boys", "girls", "girls_per_100_boys"]
    assert enrolment.results[0].categories == ["Under 100", "100 - 300", "Over 300", "Other"]
    assert enrolment.runs.completed > 0 and enrolment.labels[0].name == "Polls"
    attendance = flow_named(client, "Attendance")
    assert attendance.results[0].categories[-1] == "No Response"
    assert [f.name for f in client.get_flows(archived=True).all()] == ["Enrolment 2023 (old)"]
    assert [f.name for f in client.get_flows(type="voice").all()] == ["School Visit Call"]
    assert client.get_flows(type="survey").all() == []


def test_it_orders_flows_by_newest_created_first(raw):
    created = [f["created_on"] for f in raw.get("flows").json()["results"]]
    assert created == sorted(created, reverse=True)


def test_it_exports_spec_14_definitions_for_the_requested_flows(client):
    enrolment = flow_named(client, "Enrolment")
    export = client.get_definitions(flows=[enrolment.uuid], dependencies="none")
    assert export.version == "13" and export.triggers == [] and export.groups == []
    [flow] = export.flows
    assert flow["uuid"] == enrolment.uuid and flow["spec_version"].startswith("14.")
    routers = [n["router"] for n in flow["nodes"] if "router" in n]
    waits = [r for r in routers if "wait" in r]
    calculated = [r for r in routers if "wait" not in r]
    assert [r["result_name"] for r in waits] == ["Boys", "Girls"]
    assert calculated[0]["result_name"] == "Girls per 100 Boys"
    assert calculated[0]["operand"].startswith("@(")
    assert {c["type"] for c in waits[0]["cases"]} == {
        "has_number_lt",
        "has_number_between",
        "has_number_gt",
    }
    assert all(isinstance(a, str) for c in waits[0]["cases"] for a in c["arguments"])
    assert "fra" in flow["localization"] and "ara" in flow["localization"]
    assert set(flow["_ui"]["nodes"]) == {n["uuid"] for n in flow["nodes"]}


def test_it_localizes_textbook_categories_and_arguments(client):
    textbooks = flow_named(client, "Textbooks")
    [flow] = client.get_definitions(flows=[textbooks.uuid], dependencies="none").flows
    router = next(n["router"] for n in flow["nodes"] if "router" in n)
    assert {c["type"] for c in router["cases"]} == {"has_any_word"}
    enough = next(c for c in router["categories"] if c["name"] == "Enough")
    assert flow["localization"]["fra"][enough["uuid"]] == {"name": ["Assez"]}
    assert flow["localization"]["ara"][enough["uuid"]] == {"name": ["كافية"]}


def test_it_refuses_a_boolean_dependencies_value(client, raw):
    flow = flow_named(client, "Feedback")
    with pytest.raises(TembaBadRequestError) as error:
        client.get_definitions(flows=[flow.uuid], dependencies=False)
    assert "dependencies must be one of none, flows, all" in str(error.value)
    assert raw.get("definitions", flow=flow.uuid).json()["triggers"][0]["keywords"] == ["feedback"]


def test_it_lists_region_reporter_smart_and_system_groups(client):
    groups = {g.name: g for g in client.get_groups().all()}
    assert {"Central", "Kampala", "Wakiso", "Northern", "Gulu", "Western", "Kasese"} <= set(groups)
    assert {"Head Teachers", "Grade 5 Teachers", "SMC Members"} <= set(groups)
    assert groups["Female Reporters"].query == 'gender = "female"'
    assert groups["Open Tickets"].system is True
    assert groups["Kampala"].count > groups["Central"].count > 0
    [one] = client.get_groups(name="kampala").all()
    assert one.uuid == groups["Kampala"].uuid


def test_kampala_contacts_are_also_in_its_division_groups(client):
    divisions = {"Kampala Central", "Kawempe", "Makindye", "Nakawa", "Rubaga"}
    groups = {g.name: g for g in client.get_groups().all()}
    assert divisions <= set(groups)
    in_kampala = {c.uuid for c in client.get_contacts(group="Kampala").all()}
    in_divisions = {c.uuid for name in divisions for c in client.get_contacts(group=name).all()}
    assert in_divisions and in_divisions <= in_kampala
    assert len(in_divisions) < len(in_kampala)


def test_it_lists_fields_with_types(client, raw):
    fields = {f.key: f.type for f in client.get_fields().all()}
    assert fields["head_count"] == "number" and fields["enrolled_on"] == "datetime"
    assert fields["district"] == "district"
    item = raw.get("fields", key="head_count").json()["results"][0]
    assert item["value_type"] == "numeric" and item["label"] == "Head Count"


def test_it_lists_contacts_with_every_field_key_as_strings_or_null(client):
    contacts = client.get_contacts().all()
    keys = {f.key for f in client.get_fields().all()}
    for contact in contacts:
        assert set(contact.fields) == keys
        assert all(v is None or isinstance(v, str) for v in contact.fields.values())
        assert isinstance(contact.groups, list)
    assert any(u.startswith("tel:+2567") for c in contacts for u in c.urns)
    assert {c.status for c in contacts} >= {"active", "stopped"}
    assert {c.language for c in contacts} >= {"eng", "fra", "ara"}


def test_it_serves_deleted_contacts_only_with_deleted_true(client):
    deleted = client.get_contacts(deleted=True).all()
    assert deleted
    live = {c.uuid for c in client.get_contacts().all()}
    for contact in deleted:
        assert contact.uuid not in live
        assert contact.name is None and contact.urns == [] and contact.groups == []
        assert contact.fields == {} and contact.status is None


def test_it_filters_contacts_modified_after_inclusively(client, raw):
    contacts = raw.get("contacts").json()["results"]
    pivot = contacts[10]["modified_on"]
    after = client.get_contacts(after=datetime.fromisoformat(pivot)).all()
    assert after[-1].uuid == contacts[10]["uuid"]
    assert len(after) == 11
    before = raw.get("contacts", before=pivot).json()["results"]
    assert before[0]["uuid"] == contacts[10]["uuid"]


def test_it_filters_contacts_by_group_name_or_uuid_and_by_urn(client):
    kampala = next(g for g in client.get_groups().all() if g.name == "Kampala")
    by_name = client.get_contacts(group="Kampala").all()
    assert len(by_name) == kampala.count
    assert [c.uuid for c in client.get_contacts(group=kampala.uuid).all()] == [
        c.uuid for c in by_name
    ]
    contact = by_name[0]
    assert client.get_contacts(urn=contact.urns[0]).first().uuid == contact.uuid
    assert client.get_contacts(uuid=contact.uuid).first().uuid == contact.uuid
    assert client.get_contacts(group="No Such Group").all() == []


def test_it_orders_contacts_and_runs_by_modified_on_descending_or_reversed(raw):
    for endpoint in ("contacts", "runs"):
        items = raw.get(endpoint).json()["results"]
        stamps = [(i["modified_on"], i.get("id", 0)) for i in items]
        assert stamps == sorted(stamps, reverse=True)
        reversed_items = raw.get(endpoint, reverse="true").json()["results"]
        stamps = [i["modified_on"] for i in reversed_items]
        assert stamps == sorted(stamps)


def test_it_pages_runs_by_250_with_absolute_next_urls_keeping_filters(sim, client, raw):
    flow = flow_named(client, "Attendance")
    first = raw.get("runs", flow=flow.uuid, responded=1)
    body = first.json()
    assert len(body["results"]) == 250 and body["previous"] is None
    url = urlparse(body["next"])
    assert f"{url.scheme}://{url.netloc}" == sim.base_url
    query = parse_qs(url.query)
    assert query["flow"] == [flow.uuid] and query["responded"] == ["1"] and query["cursor"]
    second = raw.url(body["next"]).json()
    assert not {r["uuid"] for r in second["results"]} & {r["uuid"] for r in body["results"]}
    assert all(r["flow"]["uuid"] == flow.uuid and r["responded"] for r in second["results"])


def test_it_serves_runs_values_paths_and_starts(client):
    flow = flow_named(client, "Enrolment")
    runs = client.get_runs(flow=flow.uuid, responded=True).all()
    complete = [r for r in runs if r.exit_type == "completed"]
    run = complete[0]
    assert set(run.values) == {"boys", "girls", "girls_per_100_boys"}
    boys = run.values["boys"]
    assert boys.name == "Boys" and boys.category in ("Under 100", "100 - 300", "Over 300")
    assert len(run.path) >= 6 and run.path[0].time <= run.values["boys"].time
    assert run.start is not None or any(r.start is None for r in runs)
    assert {r.exit_type for r in client.get_runs(flow=flow.uuid).all()} >= {
        "completed",
        "interrupted",
        "expired",
    }
    ratio = run.values["girls_per_100_boys"]
    expected = round(float(run.values["girls"].value) / float(boys.value) * 100, 1)
    assert float(ratio.value) == pytest.approx(expected, abs=0.051)


def test_it_categorises_numbers_with_the_flows_own_cases(client):
    flow = flow_named(client, "Attendance")
    bands = {"0": (0, 0), "1 - 49": (1, 49), "50 - 99": (50, 99)}
    for run in client.get_runs(flow=flow.uuid).all():
        value = run.values.get("absent_pupils")
        if value is None or value.category in ("Other",):
            continue
        if value.category == "No Response":
            # goflow's RouteTimeout writes the time the wait timed out as the value
            assert ENGINE_DATE.match(value.value)
            assert datetime.fromisoformat(value.value) == value.time
        elif value.category == "100+":
            assert float(value.value) > 99
        else:
            low, high = bands[value.category]
            assert low <= float(value.value) <= high


def test_it_has_no_input_in_values_and_formats_engine_times_with_microseconds(raw):
    for run in raw.get("runs", responded="true").json()["results"]:
        for step in run["path"]:
            assert ENGINE_DATE.match(step["time"])
        for value in run["values"].values():
            assert "input" not in value and ENGINE_DATE.match(value["time"])
        assert DRF_DATE.match(run["modified_on"])


def test_it_omits_the_fraction_of_drf_datetimes_when_microsecond_is_zero(raw):
    flows = raw.get("flows").json()["results"]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", f["created_on"]) for f in flows)
    contacts = (
        raw.get("contacts").json()["results"] + raw.get("contacts", reverse=1).json()["results"]
    )
    created = [c["created_on"] for c in contacts]
    assert any("." not in c for c in created) and any("." in c for c in created)


def test_it_returns_null_paths_when_paths_is_false(raw):
    run = raw.get("runs", paths=0).json()["results"][0]
    assert run["path"] is None and isinstance(run["values"], dict)


def test_it_resumes_runs_from_a_saved_cursor_even_after_new_runs_arrive():
    with running_simulator(seed=5, contacts=80, runs=3000, now=NOW) as sim:
        client = sim.client()
        flow = flow_named(client, "Attendance")
        after = datetime(2025, 1, 1, tzinfo=UTC)
        everything = [
            r.uuid
            for page in client.get_runs(flow=flow.uuid, after=after, responded=True).iterfetches()
            for r in page
        ]
        iterator = client.get_runs(flow=flow.uuid, after=after, responded=True).iterfetches()
        first = next(iterator)
        cursor = iterator.get_cursor()
        assert cursor and len(everything) > 250
        newest = first[0].modified_on
        sim.add_runs("edu", 400)
        sim.tick()
        resumed = client.get_runs(flow=flow.uuid, after=after, responded=True)
        rest = [r.uuid for page in resumed.iterfetches(resume_cursor=cursor) for r in page]
        seen = [r.uuid for r in first] + rest
        assert len(seen) == len(set(seen))
        for missing in set(everything) - set(seen):
            # only runs that changed meanwhile jump to the front; the next sync gets them
            assert client.get_runs(uuid=missing).first().modified_on > newest


def test_it_answers_404_for_an_invalid_cursor(raw, client):
    assert raw.get("runs", cursor="not-a-cursor").status_code == 404
    with pytest.raises(TembaNoSuchObjectError):
        list(client.get_runs().iterfetches(resume_cursor="bm9wZQ=="))


def test_it_answers_400_for_a_bad_uuid(raw):
    response = raw.get("runs", flow="xyz")
    assert response.status_code == 400
    assert response.json() == {"detail": "Param 'flow': xyz is not a valid UUID."}
    assert raw.get("contacts", uuid="nope").status_code == 400


def test_it_parses_booleans_like_the_server(raw):
    everything = raw.get("runs").json()["results"]
    for value in ("0", "false", "no", "maybe"):
        assert raw.get("runs", responded=value).json()["results"] == everything
    for value in ("1", "TRUE", "Yes", "y"):
        assert all(r["responded"] for r in raw.get("runs", responded=value).json()["results"])


def test_it_returns_an_empty_page_for_an_unparseable_date(raw):
    assert raw.get("runs", after="yesterday").json() == {
        "next": None,
        "previous": None,
        "results": [],
    }


def test_it_serves_boundaries_with_parent_objects_and_multipolygons(client):
    boundaries = client.get_boundaries().all()
    levels = {b.name: b.level for b in boundaries}
    assert levels["Uganda"] == 0 and levels["Central"] == 1 and levels["Kampala"] == 2
    kampala = next(b for b in boundaries if b.name == "Kampala")
    assert (kampala.parent.osm_id, kampala.parent.name) == ("3492710", "Central")
    assert kampala.geometry.type == "MultiPolygon"
    ring = kampala.geometry.coordinates[0][0]
    assert len(ring) > 24 and ring[0] == ring[-1]
    for boundary in boundaries:
        for lon, lat in boundary.geometry.coordinates[0][0]:
            assert 29.5 <= lon <= 35 and -1.5 <= lat <= 4.3
    assert [b.osm_id for b in boundaries] == sorted(b.osm_id for b in boundaries)


def test_it_serves_inbox_messages_incoming_without_a_flow(client, raw):
    inbox = client.get_messages(folder="inbox").all()
    assert inbox and all(m.direction == "in" and m.flow is None for m in inbox)
    flows = client.get_messages(folder="flows").all()
    assert flows and all(m.direction == "in" and m.flow is not None for m in flows)
    sent = raw.get("messages", folder="sent").json()["results"]
    assert all(m["direction"] == "out" for m in sent)
    assert [m["sent_on"] for m in sent] == sorted((m["sent_on"] for m in sent), reverse=True)
    assert client.get_messages(folder="incoming").all() == []
    assert any(m.labels for m in inbox)


def test_it_serves_archives_with_a_count(raw):
    assert raw.get("archives").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_it_serves_weekly_flow_starts(client, raw):
    starts = raw.get("flow_starts").json()
    assert starts["results"] and all(s["status"] == "completed" for s in starts["results"])
    run = next(r for r in raw.get("runs").json()["results"] if r["start"])
    assert run["start"]["uuid"] in {s.uuid for s in client.get_flow_starts().all()}
