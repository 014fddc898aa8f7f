"""Opaque cursors: base64 of the last key a page ended on."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from tutela.api.errors import ApiError

__all__ = ["MAX_LIMIT", "PageDep", "PageParams", "decode_cursor", "encode_cursor"]

MAX_LIMIT = 500


def encode_cursor(key: str) -> str:
    """The cursor that continues after ``key``."""
    return base64.urlsafe_b64encode(key.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key a cursor continues after; 400 if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_cursor", "the cursor is not valid; start again") from None
    if not key or not key.isascii() or not key.replace("_", "").isalnum():
        raise ApiError(400, "invalid_cursor", "the cursor is not valid; start again")
    return key


@dataclass(frozen=True, slots=True)
class PageParams:
    """Where a page starts and how long it is."""

    after: str | None
    limit: int


def _page(
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 100,
) -> PageParams:
    return PageParams(decode_cursor(cursor) if cursor else None, limit)


PageDep = Annotated[PageParams, Depends(_page)]
