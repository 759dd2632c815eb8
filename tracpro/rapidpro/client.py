"""The seam between TracPro and RapidPro: the only place a TembaClient is built.

Unit tests patch `get_client`; integration tests point orgs at the simulator.
"""

from temba_client.v2 import TembaClient

import tracpro
from tracpro.orgs.models import Org

USER_AGENT = f"TracPro/{tracpro.__version__}"


def get_client(org: Org) -> TembaClient:
    return TembaClient(org.api_url, org.api_token, user_agent=USER_AGENT)
