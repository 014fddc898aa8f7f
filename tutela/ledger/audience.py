"""Who may get this? ``decide()`` for a whole population, as one set-based query.

The query mirrors :func:`tutela.decide.decide` rule by rule; a property test
holds the two to the same answers on random populations and histories.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, Select, and_, case, literal, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tutela.decide import DIRECT_MARKETING, Signals, is_restriction_exempt, stale_before
from tutela.ledger import tables as t
from tutela.ledger.database import read
from tutela.policy.model import Policy, SignalStance
from tutela.policy.taxonomy import Taxonomy, builtin

__all__ = ["allowed_query", "filter_allowed"]

BATCH = 5_000


def _cutoff(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone at least ``years`` old today."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


def allowed_query(
    policy: Policy,
    purpose: str,
    categories: Iterable[str] = (),
    signals: Signals = Signals(),
    *,
    today: dt.date | None = None,
    taxonomy: Taxonomy | None = None,
) -> Select[tuple[str]] | None:
    """The query selecting public ids of everyone allowed; ``None`` when nobody can be."""
    tax = taxonomy or builtin()
    spec = policy.purposes.get(purpose)
    if spec is None:
        return None
    for category in categories:
        if not any(tax.covers(allowed, category) for allowed in spec.categories):
            return None
    marketing = spec.is_marketing(tax)
    sale_or_ads = spec.is_sale_or_sharing(tax)
    if (
        signals.gpc
        and sale_or_ads
        and policy.promises.global_privacy_control is SignalStance.honoured
    ):
        return None
    if (
        signals.dnt
        and (marketing or sale_or_ads)
        and policy.promises.do_not_track is SignalStance.honoured
    ):
        return None

    s = t.subjects
    day = today or dt.date.today()
    conditions: list[ColumnElement[bool]] = [s.c.merged_into.is_(None), s.c.status != "erased"]

    # Children: the threshold is the higher of the policy's minimum age and the
    # country's age of digital consent, so it varies by country.
    base = policy.promises.minimum_age
    special = {
        code: c.age_of_digital_consent
        for code, c in tax.countries.items()
        if c.age_of_digital_consent is not None and c.age_of_digital_consent > base
    }
    cutoff: ColumnElement[dt.date]
    if special:
        cutoff = case(
            *[(s.c.country == code, literal(_cutoff(day, age))) for code, age in special.items()],
            else_=literal(_cutoff(day, base)),
        )
    else:
        cutoff = literal(_cutoff(day, base))
    conditions.append(or_(s.c.birth_date.is_(None), s.c.birth_date <= cutoff))

    query = select(s.c.public_id)
    basis = spec.legal_basis
    if basis in ("consent", "explicit_consent"):
        c = t.consents
        join_on = and_(c.c.subject_id == s.c.id, c.c.purpose == purpose, c.c.granted)
        first_current = stale_before(policy, purpose)
        if first_current is not None:
            order = {v.id: (v.effective, v.id) for v in policy.versions}
            current = [vid for vid, key in order.items() if key >= order[first_current]]
            join_on = and_(join_on, c.c.policy_version.in_(current))
        query = query.select_from(c.join(s, join_on))
    else:
        query = query.select_from(s)
        if not is_restriction_exempt(spec):
            conditions.append(not_(s.c.restricted))
        if basis == "contract":
            conditions.append(s.c.status == "active")
        elif basis == "legitimate_interest":
            o = t.objections
            objected = [purpose, DIRECT_MARKETING] if marketing else [purpose]
            # Uncorrelated NOT IN: both SQLite and PostgreSQL build the (small) set once
            # and probe it, instead of running a subquery per subject.
            conditions.append(
                s.c.id.not_in(select(o.c.subject_id).where(o.c.purpose.in_(objected)))
            )

    if spec.channel is not None and marketing:
        p = t.channel_prefs
        conditions.append(
            s.c.id.not_in(
                select(p.c.subject_id).where(and_(p.c.channel == spec.channel, p.c.opted_out))
            )
        )
    d = t.org_disabled_purposes
    if spec.administrator_can_disable:
        conditions.append(
            or_(
                s.c.organisation_id.is_(None),
                s.c.organisation_id.not_in(
                    select(d.c.organisation_id).where(d.c.purpose == purpose)
                ),
            )
        )
    return query.where(and_(*conditions))


def filter_allowed(
    engine: Engine,
    policy: Policy,
    purpose: str,
    subjects: Iterable[str] | None = None,
    categories: Iterable[str] = (),
    signals: Signals = Signals(),
    *,
    today: dt.date | None = None,
    taxonomy: Taxonomy | None = None,
) -> Iterator[str]:
    """Stream the public ids of subjects ``purpose`` may use: everyone, or those of
    ``subjects`` (in batches, each one query)."""
    query = allowed_query(
        policy, purpose, tuple(categories), signals, today=today, taxonomy=taxonomy
    )
    if query is None:
        return
    with read(engine) as conn:
        if subjects is None:
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(query)
            for row in result:
                yield row[0]
            return
        batch: list[str] = []
        for subject in subjects:
            batch.append(subject)
            if len(batch) >= BATCH:
                yield from conn.execute(query.where(t.subjects.c.public_id.in_(batch))).scalars()
                batch = []
        if batch:
            yield from conn.execute(query.where(t.subjects.c.public_id.in_(batch))).scalars()
