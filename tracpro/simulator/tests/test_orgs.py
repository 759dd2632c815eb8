"""--orgs N: many workspaces, each with its own token, data and request counts."""

import pytest

from tracpro.simulator import token_for
from tracpro.simulator.catalog import org_specs
from tracpro.simulator.cli import parse_options
from tracpro.simulator.testing import running_simulator

from .conftest import NOW


@pytest.fixture(scope="module")
def many():
    with running_simulator(seed=5, contacts=60, runs=400, now=NOW, orgs=5) as handle:
        yield handle


def test_the_first_two_workspaces_stay_edu_and_health():
    assert [spec.slug for spec in org_specs(2)] == ["edu", "health"]
    assert [spec.slug for spec in org_specs(1)] == ["edu"]
    specs = org_specs(5)
    assert [spec.slug for spec in specs] == ["edu", "health", "ws03", "ws04", "ws05"]
    assert [spec.family for spec in specs] == ["edu", "health", "edu", "health", "edu"]


def test_each_workspace_has_its_own_token_and_a_small_data_set(many):
    assert [org["slug"] for org in many.orgs] == ["edu", "health", "ws03", "ws04", "ws05"]
    assert [org["family"] for org in many.orgs] == ["edu", "health", "edu", "health", "edu"]
    assert many.tokens["ws04"] == token_for("ws04", 5)
    assert len(set(many.tokens.values())) == 5
    for slug in ("ws03", "ws04", "ws05"):
        contacts = many.client(slug).get_contacts().all()
        # health's share of --contacts, at its floor of 20
        assert len(contacts) == 20, slug
    edu_flows = {flow.uuid for flow in many.client("edu").get_flows().all()}
    ws03_flows = many.client("ws03").get_flows().all()
    assert {flow.name for flow in ws03_flows} >= {"Enrolment", "Attendance"}
    assert not edu_flows & {flow.uuid for flow in ws03_flows}


def test_it_counts_each_workspaces_requests_per_endpoint(many):
    many.reset_stats()
    many.client("ws03").get_runs().first()
    many.client("ws05").get_fields().all()
    many.client("ws05").get_fields().all()
    assert many.stats()["by_org"] == {"ws03": {"runs": 1}, "ws05": {"fields": 2}}


def test_the_command_line_takes_orgs():
    assert parse_options(["--orgs", "50", "--port", "0"]).orgs == 50
    assert parse_options(["--port", "0"]).orgs == 2
