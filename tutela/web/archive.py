"""The policy archive: every published version of the notice, its effective date, and
the differences between two versions, for anyone to read without signing in."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tutela.records import version_diff
from tutela.web.center import _ctx, _render, _session

__all__ = ["router"]

router = APIRouter(prefix="/privacy", include_in_schema=False)


@router.get("/policy", response_class=HTMLResponse)
def archive(request: Request, old: str = "", new: str = "", language: str = "") -> Response:
    """Every version, newest first; with ``old`` and ``new``, what changed between them."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    policy = ctx.tutela.policy
    versions = sorted(policy.versions, key=lambda v: (v.effective, v.id), reverse=True)
    languages = sorted({lang for v in policy.versions for lang in v.notices})
    chosen = language if language in languages else (languages[0] if languages else "")
    known = {v.id for v in policy.versions}
    diff: list[str] | None = None
    policy_file = ctx.settings.policy_file
    if old in known and new in known and chosen and policy_file:
        # Notice files are read relative to the policy file, as the loader reads them.
        diff = version_diff(policy, Path(policy_file).parent, old, new, chosen)
    return _render(
        ctx,
        request,
        session,
        "archive.html",
        versions=versions,
        current=policy.version,
        notice_languages=languages,
        chosen=chosen,
        old=old,
        new=new,
        diff=diff,
        diffs_available=bool(policy_file),
    )
