"""The fake RapidPro the unit tests patch in at the seam takes what the real client does."""

import inspect

import pytest

from tracpro.rapidpro.client import TracProTembaClient
from tracpro.rapidpro.tests.fakes import FakeRapidPro

CLIENT_METHODS = [name for name in vars(FakeRapidPro) if name.startswith("get_")]


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_the_fake_client_methods_have_the_real_signatures(name):
    real = inspect.signature(getattr(TracProTembaClient, name))

    assert inspect.signature(getattr(FakeRapidPro, name)) == real
