"""Deterministic identifiers: API tokens and UUIDs derived from the seed.

Run, contact and message UUIDs embed their numeric id (scrambled, in the last
12 hex digits), so a `?uuid=` lookup needs no reverse index even at a million
runs, while the UUIDs still look like random version-4 UUIDs.
"""

import hashlib

_HEX48 = 0xFFFFFFFFFFFF
_SPREAD = 0x9E3779B97F4B  # odd, so multiplying by it mod 2**48 is a bijection
_UNSPREAD = pow(_SPREAD, -1, 1 << 48)


def token_for(slug: str, seed: int) -> str:
    """The API token the simulator gives org `slug` for `seed` (40 hex digits, like RapidPro)."""
    return hashlib.sha1(f"tracpro-simulator/{seed}/{slug}".encode()).hexdigest()  # noqa: S324 - not security


def label_uuid(*parts: object) -> str:
    """A stable UUID4-looking string for any label (flow nodes, groups, orgs...)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return _format(digest[:20], digest[20:32])


def _format(head: str, tail: str) -> str:
    variant = "89ab"[int(head[15], 16) & 3]
    return f"{head[:8]}-{head[8:12]}-4{head[12:15]}-{variant}{head[16:19]}-{tail}"


class UuidMaker:
    """Maps numeric ids to UUIDs and back for one kind of record in one org."""

    __slots__ = ("_mask", "_salt")

    def __init__(self, seed: int, org: str, kind: str) -> None:
        self._salt = f"{seed}/{org}/{kind}/".encode()
        self._mask = int(hashlib.blake2b(self._salt, digest_size=6).hexdigest(), 16)

    def make(self, n: int) -> str:
        head = hashlib.blake2b(self._salt + n.to_bytes(8, "little"), digest_size=10).hexdigest()
        return _format(head, f"{((n * _SPREAD) & _HEX48) ^ self._mask:012x}")

    def parse(self, value: str) -> int | None:
        """The id behind a UUID made by this maker, or None."""
        value = value.strip().lower()
        if len(value) != 36:
            return None
        try:
            n = ((int(value[24:], 16) ^ self._mask) * _UNSPREAD) & _HEX48
        except ValueError:
            return None
        return n if self.make(n) == value else None
