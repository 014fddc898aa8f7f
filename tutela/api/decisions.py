"""``/v1/decisions``: may this purpose use this person's data now? One, or many at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from tutela.api.deps import MetricsDep, SettingsDep, TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError
from tutela.api.schemas import (
    BulkDecisionPublic,
    BulkDecisionRequest,
    BulkDecisionResult,
    DecisionPublic,
    DecisionRequest,
    SignalsIn,
)
from tutela.decide import Signals
from tutela.ledger.identities import IdentityError, normalise
from tutela.ledger.queries import lookup_many

__all__ = ["router"]

router = APIRouter(
    prefix="/v1",
    tags=["decisions"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(require_scope("decisions"))],
)


def _signals(request: Request, body: SignalsIn | None) -> Signals:
    # The caller forwards the person's own headers; a signal in either place counts.
    forwarded = Signals.from_headers(request.headers)
    given = body or SignalsIn()
    return Signals(gpc=forwarded.gpc or given.gpc, dnt=forwarded.dnt or given.dnt)


@router.post("/decisions", summary="Decide for one person")
def decide(
    body: DecisionRequest, request: Request, tutela: TutelaDep, metrics: MetricsDep
) -> DecisionPublic:
    """Allowed or not, the legal basis, every reason, the policy version and the consent
    event the answer rests on. Forward the person's ``Sec-GPC`` header (or set
    ``signals.gpc``) so Global Privacy Control is honoured. Unknown people are denied."""
    decision = tutela.decide(
        body.subject.as_mapping(), body.purpose, body.categories, _signals(request, body.signals)
    )
    metrics.observe_decisions(int(decision.allowed), int(not decision.allowed))
    return DecisionPublic(
        allowed=decision.allowed,
        purpose=decision.purpose,
        legal_basis=decision.legal_basis,
        reasons=[r.value for r in decision.reasons],
        policy_version=decision.policy_version,
        evidence=decision.evidence,
    )


@router.post("/decisions:bulk", summary="Decide for many people")
def decide_bulk(
    body: BulkDecisionRequest,
    request: Request,
    tutela: TutelaDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> BulkDecisionPublic:
    """One purpose for up to 10,000 people, as one set-based query; answers come in
    request order, without reasons (ask ``/v1/decisions`` for one person's reasons)."""
    if len(body.subjects) > settings.max_bulk_items:
        raise ApiError(
            422, "too_many_items", f"send at most {settings.max_bulk_items} subjects per call"
        )
    refs = [s.as_mapping() for s in body.subjects]
    keys: list[tuple[str, str]] = []
    for ref in refs:
        ((kind, value),) = ref.items()
        try:
            keys.append((kind, value) if kind == "id" else normalise(kind, value))
        except IdentityError:
            # Nobody can be known by an identifier that is not one: denied, like a stranger.
            keys.append(("invalid", value))
    known = lookup_many(tutela.engine, [k for k in keys if k[0] not in ("id", "invalid")])
    ids = [value if kind == "id" else known.get((kind, value)) for kind, value in keys]
    allowed = set(
        tutela.filter_allowed(
            body.purpose,
            {i for i in ids if i is not None},
            body.categories,
            _signals(request, body.signals),
        )
    )
    results = [
        BulkDecisionResult(subject=ref, id=public_id, allowed=public_id in allowed)
        for ref, public_id in zip(refs, ids, strict=True)
    ]
    count = sum(r.allowed for r in results)
    metrics.observe_decisions(count, len(results) - count)
    return BulkDecisionPublic(
        purpose=body.purpose,
        policy_version=tutela.policy.version,
        allowed_count=count,
        results=results,
    )
