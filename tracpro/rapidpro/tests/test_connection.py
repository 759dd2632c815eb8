""" "Test connection" on the root host's org form."""

from unittest import mock

import pytest
from temba_client.exceptions import TembaConnectionError, TembaTokenError

from django.urls import reverse

from tracpro.rapidpro.client import TracProTembaClient
from tracpro.rapidpro.connection import check_connection
from tracpro.simulator.testing import running_simulator

TEST_URL = reverse("orgs.org_test_connection", urlconf="tracpro.urls_root")


@pytest.fixture
def get_client():
    """`get_client` patched at the seam: checked against its signature, and the
    client it returns against the real client's."""
    fake = mock.create_autospec(TracProTembaClient, instance=True)
    with mock.patch(
        "tracpro.rapidpro.client.get_client", autospec=True, return_value=fake
    ) as patched:
        yield patched


@pytest.fixture(scope="module")
def sim():
    with running_simulator(seed=3, contacts=30, runs=10) as handle:
        yield handle


@pytest.mark.slow
def test_it_reports_the_workspace_and_what_the_token_sees(sim):
    report = check_connection(sim.base_url, sim.tokens["edu"])

    assert report.ok, report.error
    assert report.workspace == "Uganda Education Monitoring"
    assert report.languages == ("eng", "fra", "ara")
    counts = {label: (count, more) for label, count, more in report.count_rows()}
    rapidpro = sim.client("edu")
    assert counts["Contacts"] == (len(rapidpro.get_contacts().all()), False)
    assert counts["Contact fields"] == (len(rapidpro.get_fields().all()), False)
    assert counts["Flows"] == (len(rapidpro.get_flows().all()), False)


@pytest.mark.slow
def test_a_wrong_token_is_named_as_the_problem(sim):
    report = check_connection(sim.base_url, "not-a-token")

    assert not report.ok
    assert report.error.startswith("RapidPro refused the API token (403)")


def test_an_unreachable_server_gives_the_exact_error():
    report = check_connection("http://127.0.0.1:9", "token", timeout=5)

    assert not report.ok
    assert report.error.startswith("Could not connect to http://127.0.0.1:9: ")
    assert "Connection refused" in report.error


def test_it_gives_up_after_the_timeout(get_client):
    def hang(*args, **kwargs):
        import time

        time.sleep(2)

    get_client.return_value.get_org.side_effect = hang
    report = check_connection("http://rapidpro.invalid", "token", timeout=0.2)

    assert report.error == "RapidPro did not answer within 0.2 seconds."


def test_connection_errors_carry_their_cause(get_client):
    def unresolvable(*args, **kwargs):
        # As the client raises it: TembaConnectionError from the requests error.
        try:
            raise OSError("Name or service not known")
        except OSError as error:
            raise TembaConnectionError() from error

    get_client.return_value.get_org.side_effect = unresolvable
    report = check_connection("https://rapidpro.invalid", "token")

    assert report.error == (
        "Could not connect to https://rapidpro.invalid: Name or service not known"
    )


def test_superusers_test_the_values_typed_in_the_form(client_for, root, get_client):
    get_client.return_value.get_org.side_effect = TembaTokenError()
    response = client_for(root).post(
        TEST_URL, {"api_url": "https://rapidpro.example.org", "api_token": "abc"}
    )

    org = get_client.call_args.args[0]
    assert (org.api_url, org.api_token, org.pk) == ("https://rapidpro.example.org", "abc", None)
    assert "RapidPro refused the API token (403)" in response.content.decode()


def test_the_form_asks_for_a_url_and_token_first(client_for, root):
    response = client_for(root).post(TEST_URL, {"api_url": "", "api_token": ""})

    assert response.status_code == 400
    assert "Enter the RapidPro URL and API token first." in response.content.decode()


def test_only_superusers_may_test_a_connection(client_for, acme, ann, get_client):
    response = client_for(ann).post(TEST_URL, {"api_url": "http://x.org", "api_token": "t"})

    assert response.status_code == 404
    get_client.assert_not_called()


def test_the_org_form_has_the_test_button(client_for, root, acme):
    page = client_for(root).get(
        reverse("orgs.org_update", urlconf="tracpro.urls_root", args=[acme.pk])
    )

    assert 'hx-post="/manage/org/test_connection/"' in page.content.decode()
