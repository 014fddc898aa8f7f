"""``/v1/scrub``: find or scrub the personal data in a batch of texts.

A thin adapter over :mod:`tutela.scrub`: the route parses the batch, builds the
operators once, and calls :func:`~tutela.scrub.detect` per item. Nothing is
stored and nothing is logged: the texts are the caller's data.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tutela.api.deps import require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError
from tutela.errors import InputError
from tutela.scrub import (
    DEFAULT_MIN_SCORE,
    ENGINE,
    EntityType,
    Operator,
    apply_operators,
    detect,
    make_operator,
)
from tutela.scrub.operators import KEYED, secret_from_env

__all__ = [
    "MAX_SCRUB_ITEMS",
    "ScrubEntity",
    "ScrubItem",
    "ScrubItemResult",
    "ScrubPublic",
    "ScrubRequest",
    "build_operators",
    "router",
]

MAX_SCRUB_ITEMS = 1_000
"""Most texts one call may carry; the app's body limit (1 MiB) bounds their total size."""

router = APIRouter(
    prefix="/v1",
    tags=["scrub"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(require_scope("scrub"))],
)

_LANG = r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8}){0,3}$"


class ScrubItem(BaseModel):
    """One text to scan, with the caller's id for it and its language."""

    model_config = ConfigDict(extra="forbid")

    id: str | int | None = Field(
        None, description="Echoed back, to match answers to texts.", examples=["msg-1"]
    )
    text: str = Field(examples=["Ring mig på 070-123 45 67"])
    lang: str | None = Field(
        None,
        pattern=_LANG,
        description="en, sv, nl, fr or cs: picks the context words and phone region.",
        examples=["sv"],
    )

    @field_validator("id")
    @classmethod
    def _short_id(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and len(value) > 200:
            raise ValueError("an id is at most 200 characters")
        return value

    @field_validator("text")
    @classmethod
    def _encodable(cls, value: str) -> str:
        # A lone surrogate (legal in JSON escapes) is no text: keyed operators could
        # not encode it, so it is refused here rather than failing later.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text holds an unpaired surrogate") from None
        return value


class ScrubRequest(BaseModel):
    """A batch of texts and what to do with them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "operation": "redact",
                    "items": [{"id": "msg-1", "text": "Mail anna@example.nl", "lang": "en"}],
                    "operators": {"EMAIL": "mask:4", "*": "replace"},
                }
            ]
        },
    )

    items: list[ScrubItem] = Field(
        min_length=1, description=f"At most {MAX_SCRUB_ITEMS:,} texts; more is a 422."
    )
    operation: Literal["detect", "redact"] = "detect"
    operators: dict[str, str] | None = Field(
        None,
        description=(
            "For redact: entity type (or `*` for the rest) to operator, written as on the "
            "command line: `redact`, `replace[:TEXT]`, `mask[:KEEP]`, `hash`, `encrypt`, "
            "`generalize`. `hash` and `encrypt` use the server's `TUTELA_SCRUB_KEY`."
        ),
        examples=[{"EMAIL": "mask:4", "*": "replace"}],
    )
    region: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="Phone region for every item (ISO code)."
    )
    types: list[EntityType] | None = Field(
        None, max_length=len(EntityType), description="Report only these types."
    )
    min_score: float = Field(DEFAULT_MIN_SCORE, ge=0.0, le=1.0)


class ScrubEntity(BaseModel):
    """One entity found: its type, its place (character offsets) and its score."""

    type: EntityType
    start: int
    end: int
    score: float


class ScrubItemResult(BaseModel):
    """The answer for one text, in request order."""

    id: str | int | None
    entities: list[ScrubEntity] = Field(
        description="What was found, with offsets into the text that was sent."
    )
    text: str | None = Field(description="The scrubbed text (redact), else null.")


class ScrubPublic(BaseModel):
    """Answers for every text, in request order."""

    operation: Literal["detect", "redact"]
    engine: str = Field(description="The regex back-end that scanned: hyperscan, re2 or re.")
    entity_count: int
    items: list[ScrubItemResult]


def build_operators(specs: dict[str, str] | None) -> dict[EntityType | str, Operator] | None:
    """Operators from ``{"TYPE": "name[:arg]"}``; ``InputError`` for anything unusable."""
    if not specs:
        return None
    operators: dict[EntityType | str, Operator] = {}
    secret: bytes | None = None
    for type_name, spec in specs.items():
        key = type_name.strip().upper()
        if key != "*" and key not in EntityType.__members__:
            known = ", ".join(t.value for t in EntityType)
            raise InputError(f"unknown entity type in operators; choose from {known} or *")
        name, _, arg = spec.strip().partition(":")
        if name in KEYED and secret is None:
            secret = secret_from_env()
        operators[key] = make_operator(name, secret=secret, arg=arg or None)
    return operators


@router.post("/scrub", summary="Find or scrub personal data in texts")
def scrub(body: ScrubRequest) -> ScrubPublic:
    """Detect the personal data in up to 1,000 texts (type, start, end, score), or
    redact it with the operators given (the default writes the type tag, `<EMAIL>`).
    Nothing is stored or logged."""
    if len(body.items) > MAX_SCRUB_ITEMS:
        raise ApiError(422, "too_many_items", f"send at most {MAX_SCRUB_ITEMS} texts per call")
    redacting = body.operation == "redact"
    operators = build_operators(body.operators) if redacting else None
    types = frozenset(body.types) if body.types else None
    results: list[ScrubItemResult] = []
    count = 0
    for item in body.items:
        found = detect(
            item.text,
            item.lang,
            region=body.region,
            types=types,
            min_score=body.min_score,
        )
        count += len(found)
        results.append(
            ScrubItemResult(
                id=item.id,
                entities=[
                    ScrubEntity(type=e.type, start=e.start, end=e.end, score=round(e.score, 3))
                    for e in found
                ],
                text=apply_operators(item.text, found, operators) if redacting else None,
            )
        )
    return ScrubPublic(operation=body.operation, engine=ENGINE, entity_count=count, items=results)
