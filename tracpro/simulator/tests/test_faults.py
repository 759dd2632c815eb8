"""One test per fault mode, through the real client where it shows the client's view."""

import time

import pytest
import requests
from temba_client.exceptions import (
    TembaConnectionError,
    TembaHttpError,
    TembaRateExceededError,
    TembaSerializationException,
)


def test_it_throttles_with_429_and_an_integer_retry_after(sim, client, raw):
    sim.faults(mode="rate_limit", requests=2, window=30, endpoint="org")
    client.get_org()
    client.get_org()
    response = raw.get("org")
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 30
    assert response.json() == {
        "detail": f"Request was throttled. Expected available in {seconds} seconds."
    }
    with pytest.raises(TembaRateExceededError) as error:
        client.get_org()
    assert isinstance(error.value.retry_after, int) and error.value.retry_after > 0
    assert client.get_flows().first() is not None  # other endpoints are not throttled


def test_it_lets_the_client_retry_after_a_short_throttle(sim, client):
    sim.faults(mode="rate_limit", requests=0, window=1, endpoint="org", count=1)
    assert client.get_org(retry_on_rate_exceed=True).name == "Uganda Education Monitoring"
    assert sim.stats()["requests"]["org"]["429"] >= 1


def test_it_fails_the_nth_request_with_a_server_error(sim, client):
    sim.faults(mode="error", status=503, nth=2, endpoint="runs")
    iterator = client.get_runs().iterfetches()
    assert next(iterator)
    with pytest.raises(TembaHttpError) as error:
        next(iterator)
    assert "503" in str(error.value)
    assert client.get_runs().first() is not None


def test_it_fails_requests_with_a_probability(sim, raw):
    sim.faults(mode="error", probability=0.5, endpoint="groups")
    statuses = [raw.get("groups").status_code for _ in range(40)]
    assert 5 < statuses.count(500) < 35 and statuses.count(200) > 5


def test_it_scopes_faults_to_an_endpoint_and_a_count(sim, raw):
    sim.faults(mode="error", endpoint="fields", count=2)
    assert raw.get("labels").status_code == 200
    assert [raw.get("fields").status_code for _ in range(3)] == [500, 500, 200]
    assert sim.stats()["faults_fired"]["error"] >= 2


def test_it_answers_slowly_with_a_delay(sim, client):
    sim.faults(mode="delay", seconds=0.4, endpoint="labels", count=1)
    started = time.perf_counter()
    client.get_labels().all()
    assert time.perf_counter() - started >= 0.4


def test_it_drops_the_connection(sim, client):
    sim.faults(mode="disconnect", endpoint="org", count=1)
    with pytest.raises(TembaConnectionError):
        client.get_org()


def test_it_serves_a_malformed_json_page(sim, client, raw):
    sim.faults(mode="malformed", endpoint="contacts", count=1)
    with pytest.raises(ValueError):
        client.get_contacts().first()
    assert client.get_contacts().first() is not None


def test_it_truncates_a_page_mid_body(sim, raw):
    sim.faults(mode="truncate", endpoint="runs", count=1)
    with pytest.raises(requests.exceptions.RequestException):
        raw.get("runs")
    assert raw.get("runs").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("contact", None), ("values", "not a dict"), ("modified_on", "not-a-date"), ("path", None)],
)
def test_it_breaks_one_item_of_an_otherwise_good_page(sim, raw, field, value):
    sim.faults(mode="broken_item", endpoint="runs", field=field, value=value, index=3, count=1)
    results = raw.get("runs").json()["results"]
    assert results[3][field] == value
    assert all(r[field] != value for i, r in enumerate(results) if i != 3)


def test_it_breaks_a_run_so_the_client_fails_on_just_that_page(sim, client):
    sim.faults(mode="broken_item", endpoint="runs", field="values", value=None, count=1)
    with pytest.raises(TembaSerializationException):
        client.get_runs().first()


def test_it_repeats_an_item_on_two_pages(sim, client):
    sim.faults(mode="duplicate_item", endpoint="runs", count=1)
    iterator = client.get_runs().iterfetches()
    first, second = next(iterator), next(iterator)
    assert second[0].uuid == first[-1].uuid
    assert len(second) == 250


def test_it_lists_and_clears_faults_and_refuses_unknown_modes(sim):
    sim.faults(mode="delay", seconds=0.01, endpoint="org")
    assert sim.call("GET", "/sim/faults")["faults"][0]["mode"] == "delay"
    sim.clear_faults()
    assert sim.call("GET", "/sim/faults")["faults"] == []
    with pytest.raises(RuntimeError, match="unknown fault mode"):
        sim.faults(mode="explode")


def test_it_counts_requests_per_endpoint_and_status(sim, raw):
    sim.reset_stats()
    raw.get("runs")
    raw.get("runs", flow="bad")
    stats = sim.stats()
    assert stats["requests"]["runs"] == {"200": 1, "400": 1}
    assert stats["server_ms"]["runs"]["count"] == 2
    assert float(raw.get("runs").headers["X-Sim-Elapsed-Ms"]) > 0
