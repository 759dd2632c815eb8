"""Fixtures of the runs sync's unit tests: RapidPro faked at the seam, an "Attendance"
poll with one numeric question, and a reporter in Kampala."""

from unittest import mock

import pytest

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.tests.factories import make_region
from tracpro.polls.models import Poll
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.sync_helpers import sync

KAMPALA_EVENING = fakes.KAMPALA_EVENING


@pytest.fixture
def rapidpro():
    fake = fakes.FakeRapidPro()
    with mock.patch("tracpro.rapidpro.client.get_client", autospec=True, return_value=fake):
        yield fake


@pytest.fixture
def poll(acme, rapidpro):
    """An "Attendance" flow with one numeric question, selected as a poll."""
    node = fakes.new_uuid()
    item = fakes.flow(
        "Attendance",
        [fakes.result("absent", "Absent", ["0", "1 - 49", "Other", "No Response"], node)],
    )
    rapidpro.flows.append(item)
    rapidpro.definitions[item["uuid"]] = {
        "uuid": item["uuid"],
        "name": "Attendance",
        "nodes": [
            {
                "uuid": node,
                "router": {
                    "type": "switch",
                    "result_name": "Absent",
                    "wait": {"type": "msg", "timeout": {"seconds": 60, "category_uuid": "c4"}},
                    "cases": [
                        {
                            "uuid": "k1",
                            "type": "has_number_eq",
                            "arguments": ["0"],
                            "category_uuid": "c1",
                        },
                        {
                            "uuid": "k2",
                            "type": "has_number_between",
                            "arguments": ["1", "49"],
                            "category_uuid": "c2",
                        },
                    ],
                    "categories": [
                        {"uuid": "c1", "name": "0", "exit_uuid": "e1"},
                        {"uuid": "c2", "name": "1 - 49", "exit_uuid": "e2"},
                        {"uuid": "c3", "name": "Other", "exit_uuid": "e3"},
                        {"uuid": "c4", "name": "No Response", "exit_uuid": "e4"},
                    ],
                    "default_category_uuid": "c3",
                },
                "exits": [{"uuid": f"e{i}"} for i in range(1, 5)],
            }
        ],
    }
    assert sync(acme, "flows") == {"flows": "succeeded"}
    Poll.objects.filter(org=acme).update(is_active=True)
    assert sync(acme, "flows") == {"flows": "succeeded"}
    return Poll.objects.get(org=acme)


@pytest.fixture
def reporter(acme):
    return make_contact(
        acme, "Grace", region=make_region(acme, "Kampala"), remote_modified_on=KAMPALA_EVENING
    )
