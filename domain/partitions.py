"""Splitting bulk work into ranges that workers take in parallel.

A loan's id is a random UUID, so equal slices of the 128-bit id space hold about as many loans each; a range is
(after, through]: the first starts after the nil UUID (never an id) and the last ends at the largest. The split
depends only on the count, so a retried or replayed workflow asks for the very same ranges."""

from __future__ import annotations

import uuid

__all__ = ["IdRange", "id_ranges"]

_SPACE = 1 << 128


class IdRange(tuple[uuid.UUID, uuid.UUID]):
    """(after, through]: ids greater than `after` and at most `through`."""

    __slots__ = ()

    @property
    def after(self) -> uuid.UUID:
        return self[0]

    @property
    def through(self) -> uuid.UUID:
        return self[1]


def id_ranges(count: int) -> list[IdRange]:
    if count < 1:
        raise ValueError("at least one range")
    ends = [_SPACE * (i + 1) // count - 1 for i in range(count)]
    return [IdRange((uuid.UUID(int=ends[i - 1] if i else 0), uuid.UUID(int=ends[i]))) for i in range(count)]
