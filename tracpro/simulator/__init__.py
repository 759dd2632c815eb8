"""A faithful RapidPro API v2 simulator for TracPro (standard library only).

Run it with `python -m tracpro.simulator`; use `tracpro.simulator.testing` from
tests. See docs/simulator.md.
"""

from .ids import token_for

__all__ = ["token_for"]
