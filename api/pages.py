"""A list as every list route answers it (`../shared/API.md`): `{"data": [...], "has_more": bool}`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    data: list[Item]
    has_more: bool = False
