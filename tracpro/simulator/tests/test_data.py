"""Determinism, the org catalogue, /sim/summary as the truth, and the flow engine."""

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from tracpro.simulator import token_for
from tracpro.simulator.catalog import ORG_SPECS
from tracpro.simulator.clock import to_us
from tracpro.simulator.data import build_org
from tracpro.simulator.engine import evaluate_case, snakify
from tracpro.simulator.testing import running_simulator

from .conftest import NOW, Raw


def _snapshot(handle):
    """Every listing, with this server's own address (in recordings' URLs) taken out."""
    raw = Raw(handle)
    return {
        name: json.loads(raw.get(name).text.replace(handle.base_url, "http://simulator"))
        for name in ("org", "flows", "groups", "contacts", "runs", "messages", "boundaries")
    }


def test_it_builds_the_same_data_for_the_same_seed(sim):
    with running_simulator(seed=7, contacts=160, runs=2600, now=NOW) as again:
        assert again.tokens == sim.tokens
        first, second = _snapshot(sim), _snapshot(again)
        for name in first:
            assert _strip_hosts(first[name]) == _strip_hosts(second[name]), name


def _strip_hosts(body):
    if isinstance(body, dict) and "next" in body:
        return {**body, "next": None, "previous": None}
    return body


def test_it_builds_different_data_for_another_seed(sim):
    with running_simulator(seed=8, contacts=160, runs=2600, now=NOW) as other:
        assert other.tokens != sim.tokens
        assert (
            Raw(other).get("runs").json()["results"][0]["uuid"]
            != Raw(sim).get("runs").json()["results"][0]["uuid"]
        )


def test_it_gives_the_same_tokens_as_token_for(sim):
    assert sim.tokens == {"edu": token_for("edu", 7), "health": token_for("health", 7)}
    orgs = requests.get(f"{sim.base_url}/sim/orgs", timeout=10).json()
    assert [(o["slug"], o["name"]) for o in orgs] == [
        ("edu", "Uganda Education Monitoring"),
        ("health", "Uganda Health Monitoring"),
    ]


def test_it_keeps_each_orgs_data_apart(sim):
    health = sim.client("health")
    assert health.get_org().name == "Uganda Health Monitoring"
    names = {f.name for f in health.get_flows().all()}
    assert names == {"Stock Levels", "Service Rating", "Patient Comments"}
    edu_runs = {r["uuid"] for r in Raw(sim).get("runs").json()["results"]}
    assert not edu_runs & {r.uuid for r in health.get_runs().all()}


def test_it_summarises_exactly_what_the_api_serves(sim):
    client = sim.client()
    summary = sim.summary("edu")
    runs = client.get_runs().all()
    assert summary["runs"] == len(runs)
    contacts = client.get_contacts().all()
    statuses = Counter(c.status for c in contacts)
    assert summary["contacts"]["active"] == statuses["active"]
    assert summary["contacts"]["blocked"] == statuses["blocked"]
    assert summary["contacts"]["deleted"] == len(client.get_contacts(deleted=True).all())
    for flow in client.get_flows().all():
        truth = summary["flows"][flow.uuid]
        mine = [r for r in runs if r.flow.uuid == flow.uuid]
        assert truth["runs"] == len(mine)
        assert truth["responded"] == sum(1 for r in mine if r.responded)
        for key, expected in truth["results"].items():
            values = [r.values[key] for r in mine if key in r.values]
            assert expected["count"] == len(values)
            # a result set by an action without a category has none (null)
            assert expected["categories"] == dict(Counter(v.category or "" for v in values))
            numbers = [Decimal(v.value) for v in values if _is_number(v.value)]
            assert expected["sum"] == pytest.approx(float(sum(numbers)))


def _is_number(text):
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def test_it_responds_unevenly_by_district(sim):
    client = sim.client()
    groups = {g.name: g for g in client.get_groups().all()}
    members = {
        name: {c.uuid for c in client.get_contacts(group=name).all()}
        for name in ("Kampala", "Kasese")
    }
    runs = client.get_runs().all()
    rate = {}
    for name, uuids in members.items():
        mine = [r for r in runs if r.contact.uuid in uuids and r.flow.name != "Single Message"]
        rate[name] = sum(r.responded for r in mine) / len(mine)
    assert groups["Kampala"].count and rate["Kampala"] > rate["Kasese"] + 0.2


def test_it_has_contacts_answering_twice_on_the_same_day(client):
    by_day = Counter(
        (r.contact.uuid, r.flow.uuid, r.created_on.date())
        for r in client.get_runs(responded=True).all()
    )
    assert any(count > 1 for count in by_day.values())


@pytest.mark.parametrize(
    ("test", "args", "text", "match"),
    [
        ("has_number_between", ["1", "49"], "49", "49"),
        ("has_number_between", ["1", "49"], "1", "1"),
        ("has_number_between", ["1", "49"], "49.5", None),
        ("has_number_lt", ["100"], "100", None),
        ("has_number_lt", ["100"], "99.9", "99.9"),
        ("has_number_gt", ["99"], "99", None),
        ("has_number_gt", ["99"], "we have 120 pupils", "120"),
        ("has_number_eq", ["0"], "0", "0"),
        ("has_number", [], "about 23 boys", "23"),
        ("has_number", [], "٢٣", "23"),
        ("has_number", [], "many", None),
        ("has_any_word", ["enough yes all"], "Yes we have ENOUGH", "Yes ENOUGH"),
        ("has_any_word", ["enough yes all"], "none", None),
        ("has_text", [], "  hello ", "hello"),
        ("has_text", [], "   ", None),
    ],
)
def test_it_evaluates_cases_like_the_flow_engine(test, args, text, match):
    assert evaluate_case(test, args, text) == match


def test_it_snakifies_result_names_into_keys():
    assert snakify("Girls per 100 Boys") == "girls_per_100_boys"
    assert snakify("ACT Doses") == "act_doses"


def test_nothing_seeded_is_modified_after_now():
    """A sync's watermark must never run ahead of the server's clock, or runs
    written "now" would fall behind it. (At this size, seed 1 once had a run
    modified 0.8 s after now: a resent start answered in the last seconds.)"""
    anchor = to_us(datetime(2025, 6, 2, 9, 30, tzinfo=UTC))
    store = build_org(ORG_SPECS[0], seed=1, contacts=20_000, runs=200_000, anchor=anchor)
    assert max(store.runs.modified) <= anchor
    assert max(contact.modified for contact in store.contacts) <= anchor
    assert max(message.modified for message in store.messages) <= anchor
