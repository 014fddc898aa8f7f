"""Consents: record a grant or withdrawal, read the history, import consents in bulk."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from tutela.api.deps import SettingsDep, TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError, status_for
from tutela.api.pagination import PageDep, encode_cursor
from tutela.api.schemas import (
    ChangeRecorded,
    ConsentCreate,
    ConsentEventPublic,
    ConsentImport,
    ConsentImportPublic,
    ConsentPage,
    ImportRejection,
    utc,
)
from tutela.api.subjects import SubjectId
from tutela.errors import TutelaError
from tutela.ledger.queries import consent_page
from tutela.ledger.store import EventRecord

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["consents"], responses=ERROR_RESPONSES)

_read = [Depends(require_scope("consents:read"))]
_write = [Depends(require_scope("consents:write"))]


def _event_public(event: EventRecord) -> ConsentEventPublic:
    payload = event.payload
    return ConsentEventPublic(
        event_id=f"evt_{event.id}",
        purpose=str(payload["purpose"]),
        granted=bool(payload["granted"]),
        policy_version=payload.get("policy_version"),
        channel=payload.get("channel"),
        notice_hash=payload.get("notice_hash"),
        source=str(payload.get("source", "api")),
        at=utc(event.at) or event.at,
    )


@router.post(
    "/subjects/{subject_id}/consents",
    status_code=status.HTTP_201_CREATED,
    dependencies=_write,
    summary="Record a consent or its withdrawal",
)
def record_consent(subject_id: SubjectId, body: ConsentCreate, tutela: TutelaDep) -> ChangeRecorded:
    """Append a grant or withdrawal to the subject's ledger. Without ``policy_version``
    the consent is recorded under the policy's current version."""
    event_id = tutela.ledger.record_consent(
        subject_id,
        body.purpose,
        body.granted,
        policy_version=body.policy_version or tutela.policy.version,
        channel=body.channel,
        notice_hash=body.notice_hash,
        source=body.source,
        ip=body.ip,
        user_agent=body.user_agent,
        at=body.at,
    )
    return ChangeRecorded(event_id=f"evt_{event_id}")


@router.get(
    "/subjects/{subject_id}/consents", dependencies=_read, summary="Read the consent history"
)
def consent_history(subject_id: SubjectId, tutela: TutelaDep, page: PageDep) -> ConsentPage:
    """Every grant and withdrawal of the subject, oldest first, a page at a time."""
    after: int | None = None
    if page.after is not None:
        if not page.after.isdigit():
            raise ApiError(400, "invalid_cursor", "the cursor is not valid; start again")
        after = int(page.after)
    events = consent_page(tutela.engine, subject_id, after, page.limit + 1)
    more = len(events) > page.limit
    events = events[: page.limit]
    return ConsentPage(
        items=[_event_public(e) for e in events],
        next_cursor=encode_cursor(str(events[-1].id)) if more else None,
    )


@router.post("/consents:import", dependencies=_write, summary="Import consents recorded elsewhere")
def import_consents(
    body: ConsentImport, tutela: TutelaDep, settings: SettingsDep
) -> ConsentImportPublic:
    """Record consents given before, each at its original time and with source ``import``.
    An item that cannot be recorded is listed in ``rejected`` and the rest go on."""
    if len(body.items) > settings.max_bulk_items:
        raise ApiError(
            422, "too_many_items", f"send at most {settings.max_bulk_items} items per call"
        )
    imported = created = 0
    rejected: list[ImportRejection] = []
    for index, item in enumerate(body.items):
        ref = item.subject.as_mapping()
        try:
            public_id = tutela.resolve(ref)
            if public_id is None and body.create_subjects and "id" not in ref:
                public_id = tutela.ledger.create_subject(list(ref.items()))
                created += 1
            if public_id is None:
                rejected.append(
                    ImportRejection(index=index, code="not_found", message="no subject")
                )
                continue
            tutela.ledger.record_consent(
                public_id,
                item.purpose,
                item.granted,
                policy_version=item.policy_version,
                channel=item.channel,
                notice_hash=item.notice_hash,
                source="import",
                at=item.at,
            )
            imported += 1
        except TutelaError as exc:
            _, code = status_for(exc)
            rejected.append(ImportRejection(index=index, code=code, message=str(exc)))
    return ConsentImportPublic(imported=imported, created_subjects=created, rejected=rejected)
