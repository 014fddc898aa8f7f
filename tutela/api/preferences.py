"""A person's marketing channels, objections (Art. 21) and restriction (Art. 18)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tutela.api.deps import TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES
from tutela.api.schemas import (
    ChangeRecorded,
    ChannelUpdate,
    ObjectionUpdate,
    PreferencesPublic,
    RestrictionUpdate,
)
from tutela.api.subjects import SubjectId

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/subjects/{subject_id}", tags=["preferences"], responses=ERROR_RESPONSES
)


@router.get(
    "/preferences",
    dependencies=[Depends(require_scope("consents:read"))],
    summary="Read channels, objections and restriction",
)
def get_preferences(subject_id: SubjectId, tutela: TutelaDep) -> PreferencesPublic:
    """Which marketing channels are off, what the person objected to, whether restricted."""
    state = tutela.ledger.state(subject_id)
    return PreferencesPublic(
        channel_opt_outs=sorted(state.channel_opt_outs),
        objections=sorted(state.objections),
        restricted=state.restricted,
    )


@router.post(
    "/channels",
    dependencies=[Depends(require_scope("consents:write"))],
    summary="Opt a marketing channel out or in",
)
def set_channel(subject_id: SubjectId, body: ChannelUpdate, tutela: TutelaDep) -> ChangeRecorded:
    """Turn a marketing channel off (or on again); transactional messages are unaffected."""
    event_id = tutela.ledger.set_channel(subject_id, body.channel, body.opted_out)
    return ChangeRecorded(event_id=f"evt_{event_id}")


@router.post(
    "/objections",
    dependencies=[Depends(require_scope("consents:write"))],
    summary="Object to a purpose, or withdraw the objection",
)
def set_objection(
    subject_id: SubjectId, body: ObjectionUpdate, tutela: TutelaDep
) -> ChangeRecorded:
    """Record an objection (Art. 21); ``direct_marketing`` covers every marketing purpose."""
    event_id = tutela.ledger.set_objection(subject_id, body.purpose, body.active)
    return ChangeRecorded(event_id=f"evt_{event_id}")


@router.post(
    "/restriction",
    dependencies=[Depends(require_scope("subjects:write"))],
    summary="Restrict processing, or lift the restriction",
)
def set_restriction(
    subject_id: SubjectId, body: RestrictionUpdate, tutela: TutelaDep
) -> ChangeRecorded:
    """Start or lift a restriction of processing (Art. 18), with its reason."""
    event_id = tutela.ledger.set_restriction(subject_id, body.active, body.reason)
    return ChangeRecorded(event_id=f"evt_{event_id}")
