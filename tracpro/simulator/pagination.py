"""Cursor pagination over sorted keys (the server's CursorPagination, keyset style).

A cursor encodes the last key served (`p`) and the direction (`r`), so it stays
valid, and skips nothing, while new records are written.
"""

import base64
import bisect
from urllib.parse import parse_qs, urlencode

from .api import PAGE_SIZE, ApiError, Listing

INVALID_CURSOR = ApiError(404, {"detail": "Invalid cursor"})


def encode_cursor(position: object, reverse: bool) -> str:
    raw = urlencode({"p": position, "r": 1 if reverse else 0})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, key_type: type) -> tuple[object, bool]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
        fields = parse_qs(raw, keep_blank_values=True)
        position = key_type(fields["p"][0])
        reverse = fields.get("r", ["0"])[0] == "1"
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        raise INVALID_CURSOR from error
    return position, reverse


def _walk(listing: Listing, start: int, step: int, want: int) -> list:
    keys, lo = listing.keys, listing.lo
    hi = len(keys) if listing.hi is None else listing.hi
    found = []
    accept = listing.accept
    i = start
    while lo <= i < hi and len(found) < want:
        key = keys[i]
        if accept is None or accept(key):
            found.append(key)
        i += step
    return found


def page(listing: Listing, cursor: str | None, duplicate: bool = False):
    """(keys of the page, next cursor or None, previous cursor or None)."""
    keys = listing.keys
    hi = len(keys) if listing.hi is None else listing.hi
    forward = -1 if listing.descending else 1
    if cursor is None:
        start = hi - 1 if listing.descending else listing.lo
        found = _walk(listing, start, forward, PAGE_SIZE + 1)
        backwards = False
    else:
        position, backwards = decode_cursor(cursor, listing.key_type)
        step = -forward if backwards else forward
        if step < 0:
            start = bisect.bisect_left(keys, position) - 1
            if duplicate:
                start += 1
        else:
            start = bisect.bisect_right(keys, position)
            if duplicate:
                start -= 1
        found = _walk(listing, start, step, PAGE_SIZE + 1)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if backwards:
        found.reverse()
        next_cursor = encode_cursor(found[-1], False) if found else None
        previous = encode_cursor(found[0], True) if found and more else None
        return found, next_cursor, previous
    next_cursor = encode_cursor(found[-1], False) if more else None
    previous = encode_cursor(found[0], True) if cursor is not None and found else None
    return found, next_cursor, previous
