"""Fixtures: simulators served in-process on free ports (no Django, no database)."""

import pytest
import requests

from tracpro.simulator.testing import SimulatorHandle, running_simulator

NOW = "2025-06-02T09:30:00Z"


@pytest.fixture(scope="session")
def shared_sim():
    """A simulator that tests only read from (faults are cleared after every test)."""
    with running_simulator(seed=7, contacts=160, runs=2600, now=NOW) as handle:
        yield handle


@pytest.fixture
def sim(shared_sim: SimulatorHandle):
    yield shared_sim
    shared_sim.clear_faults()


@pytest.fixture
def fresh_sim():
    """A small simulator of its own, for tests that write or tick."""
    with running_simulator(seed=3, contacts=60, runs=700, now=NOW) as handle:
        yield handle


@pytest.fixture
def client(sim: SimulatorHandle):
    return sim.client("edu")


class Raw:
    """Plain HTTP against the API, to look at what the client hides."""

    def __init__(self, handle: SimulatorHandle, org: str = "edu") -> None:
        self.base = handle.base_url
        self.headers = {"Authorization": f"Token {handle.tokens[org]}"}

    def get(self, endpoint: str, **params: object) -> requests.Response:
        return requests.get(
            f"{self.base}/api/v2/{endpoint}.json", params=params, headers=self.headers, timeout=30
        )

    def url(self, url: str) -> requests.Response:
        return requests.get(url, headers=self.headers, timeout=30)

    def post(self, endpoint: str, body: object, **params: object) -> requests.Response:
        return requests.post(
            f"{self.base}/api/v2/{endpoint}.json",
            json=body,
            params=params,
            headers=self.headers,
            timeout=30,
        )

    def delete(self, endpoint: str, **params: object) -> requests.Response:
        return requests.delete(
            f"{self.base}/api/v2/{endpoint}.json", params=params, headers=self.headers, timeout=30
        )


@pytest.fixture
def raw(sim: SimulatorHandle) -> Raw:
    return Raw(sim)
