"""``/health`` for load balancers and ``/metrics`` for Prometheus; neither needs a key."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from tutela.api.deps import MetricsDep, TutelaDep
from tutela.api.schemas import HealthPublic
from tutela.ledger.queries import ping

__all__ = ["router"]

log = logging.getLogger("tutela.api")

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    summary="Is the API up?",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database does not answer"}},
)
def health(tutela: TutelaDep) -> Any:
    """``ok`` when the ledger database answers; 503 when it does not."""
    try:
        ping(tutela.engine)
    except Exception as exc:
        log.error("health check failed: %s", type(exc).__name__)
        down = HealthPublic(
            status="unavailable", database="unavailable", policy_version=tutela.policy.version
        )
        return JSONResponse(down.model_dump(), status_code=503)
    return HealthPublic(status="ok", database="ok", policy_version=tutela.policy.version)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(collected: MetricsDep) -> PlainTextResponse:
    """Requests by route and status, latency, decisions by outcome (text format 0.0.4)."""
    return PlainTextResponse(
        collected.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )
