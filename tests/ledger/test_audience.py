"""filter_allowed() agrees with decide() on random populations and event histories."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutela import Tutela
from tutela.decide import DIRECT_MARKETING, AccountStatus, Signals, decide
from tutela.ledger.replay import replay

PURPOSES = ["provide_service", "newsletter", "product_news", "ads", "analytics", "bookkeeping"]

actions = st.one_of(
    st.tuples(
        st.just("consent"),
        st.sampled_from(["newsletter", "product_news"]),
        st.booleans(),
        st.sampled_from(["v1", "v2", "v3"]),
    ),
    st.tuples(st.just("channel"), st.sampled_from(["email", "sms"]), st.booleans()),
    st.tuples(st.just("object"), st.sampled_from([*PURPOSES, DIRECT_MARKETING]), st.booleans()),
    st.tuples(st.just("restrict"), st.booleans()),
    st.tuples(st.just("status"), st.sampled_from(list(AccountStatus))),
    st.tuples(st.just("org_off"), st.sampled_from(PURPOSES), st.booleans()),
)
people = st.lists(
    st.tuples(
        st.none()
        | st.dates(dt.date(2005, 1, 1), dt.date(2016, 12, 31))
        | st.just(dt.date(1980, 5, 5)),
        st.sampled_from([None, "SE", "NL", "FR"]),
        st.lists(actions, max_size=5),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(population=people, gpc=st.booleans())
def test_bulk_agrees_with_decide(rules_tutela: Tutela, population: list, gpc: bool) -> None:  # type: ignore[type-arg]
    ledger = rules_tutela.ledger
    org = ledger.create_organisation("Org")
    ids = []
    for birth, country, history in population:
        sid = ledger.create_subject(birth_date=birth, country=country, organisation=org)
        ids.append(sid)
        erased = False
        for action in history:
            kind = action[0]
            if erased:
                break
            if kind == "consent":
                ledger.record_consent(sid, action[1], action[2], policy_version=action[3])
            elif kind == "channel":
                ledger.set_channel(sid, action[1], action[2])
            elif kind == "object":
                ledger.set_objection(sid, action[1], action[2])
            elif kind == "restrict":
                ledger.set_restriction(sid, action[1], "test")
            elif kind == "status":
                ledger.update_subject(sid, status=action[1])
                erased = action[1] is AccountStatus.erased
            elif kind == "org_off":
                ledger.set_organisation_purpose(org, action[1], enabled=action[2])
    signals = Signals(gpc=gpc)
    for purpose in PURPOSES:
        expected = {s for s in ids if rules_tutela.decide({"id": s}, purpose, (), signals).allowed}
        assert set(rules_tutela.filter_allowed(purpose, ids, (), signals)) == expected, purpose
        everyone = set(rules_tutela.filter_allowed(purpose, None, (), signals))
        assert everyone & set(ids) == expected
    # The decision from materialised state equals the decision from replaying the log.
    states = replay(rules_tutela.engine)
    for sid in ids:
        assert states[sid] == ledger.state(sid)
        for purpose in PURPOSES:
            from_log = decide(rules_tutela.policy, states[sid], purpose, (), signals)
            assert from_log == rules_tutela.decide({"id": sid}, purpose, (), signals)
