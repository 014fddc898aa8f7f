"""``/v1/subjects``: register people, read and change them, find them by an identifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from tutela.api.deps import TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError
from tutela.api.pagination import PageDep, encode_cursor
from tutela.api.schemas import (
    ID_PATTERN,
    ConsentStatePublic,
    IdentityCreate,
    IdentityPublic,
    SubjectCreate,
    SubjectListItem,
    SubjectPage,
    SubjectPublic,
    SubjectRef,
    SubjectUpdate,
    utc,
)
from tutela.decide import AccountStatus
from tutela.engine import Tutela
from tutela.ledger.queries import subject_page
from tutela.requests import Requests

__all__ = ["SubjectId", "router", "subject_public"]

router = APIRouter(prefix="/v1", tags=["subjects"], responses=ERROR_RESPONSES)

SubjectId = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=ID_PATTERN, examples=["sub_4f3c0d1e2a9b8c7d"]),
]
"""A subject's public id in a path."""

_read = [Depends(require_scope("subjects:read"))]
_write = [Depends(require_scope("subjects:write"))]


def subject_public(tutela: Tutela, public_id: str) -> SubjectPublic:
    """The subject as the API shows it."""
    state = tutela.ledger.state(public_id)
    return SubjectPublic(
        id=state.subject_id,
        status=state.status.value,
        birth_date=state.birth_date,
        country=state.country,
        restricted=state.restricted,
        identities=[
            IdentityPublic(kind=k, value=v) for k, v in tutela.ledger.identities(public_id)
        ],
        consents={
            purpose: ConsentStatePublic(
                granted=c.granted,
                policy_version=c.policy_version,
                event_id=c.event_id,
                at=utc(c.at),
            )
            for purpose, c in sorted(state.consents.items())
        },
        objections=sorted(state.objections),
        channel_opt_outs=sorted(state.channel_opt_outs),
    )


@router.post(
    "/subjects",
    status_code=status.HTTP_201_CREATED,
    dependencies=_write,
    summary="Register a person",
)
def create_subject(body: SubjectCreate, tutela: TutelaDep) -> SubjectPublic:
    """Register a person with their identifiers; an identifier already known is a 409."""
    public_id = tutela.ledger.create_subject(
        [(i.kind, i.value) for i in body.identities],
        birth_date=body.birth_date,
        country=body.country,
        organisation=body.organisation,
        managed=body.managed,
        region=body.region,
    )
    return subject_public(tutela, public_id)


@router.get("/subjects", dependencies=_read, summary="List subjects")
def list_subjects(tutela: TutelaDep, page: PageDep) -> SubjectPage:
    """Every subject id, a page at a time."""
    ids = subject_page(tutela.engine, page.after, page.limit + 1)
    more = len(ids) > page.limit
    ids = ids[: page.limit]
    return SubjectPage(
        items=[SubjectListItem(id=i) for i in ids],
        next_cursor=encode_cursor(ids[-1]) if more else None,
    )


@router.post("/subjects:lookup", dependencies=_read, summary="Find a subject by an identifier")
def lookup_subject(body: SubjectRef, tutela: TutelaDep) -> SubjectPublic:
    """The subject an email, phone, user id (or id) names. A POST keeps the identifier
    out of URLs and access logs."""
    public_id = tutela.resolve(body.as_mapping())
    if public_id is None:
        raise ApiError(404, "not_found", "nobody is known by this identifier")
    return subject_public(tutela, public_id)


@router.get("/subjects/{subject_id}", dependencies=_read, summary="Read a subject")
def get_subject(subject_id: SubjectId, tutela: TutelaDep) -> SubjectPublic:
    """The subject, their identifiers and current choices."""
    return subject_public(tutela, subject_id)


@router.patch("/subjects/{subject_id}", dependencies=_write, summary="Change a subject")
def update_subject(subject_id: SubjectId, body: SubjectUpdate, tutela: TutelaDep) -> SubjectPublic:
    """Record a birth date, a country or an account status."""
    tutela.ledger.update_subject(
        subject_id,
        birth_date=body.birth_date,
        country=body.country,
        status=AccountStatus(body.status) if body.status else None,
    )
    if body.birth_date is not None or body.country is not None:
        # Learning that someone is a child starts the erasure of their data.
        Requests(tutela).erase_if_child(subject_id)
    return subject_public(tutela, subject_id)


@router.post(
    "/subjects/{subject_id}/identities",
    dependencies=_write,
    status_code=status.HTTP_201_CREATED,
    summary="Add an identifier",
)
def add_identity(subject_id: SubjectId, body: IdentityCreate, tutela: TutelaDep) -> SubjectPublic:
    """Attach one more identifier; one that belongs to someone else is a 409."""
    tutela.ledger.add_identity(subject_id, body.kind, body.value)
    return subject_public(tutela, subject_id)
