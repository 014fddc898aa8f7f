"""Two processes writing events for the same subject at once leave one valid chain,
and the state equals the replay of the log."""

from __future__ import annotations

import multiprocessing

from tutela import Tutela
from tutela.ledger.database import open_engine
from tutela.ledger.replay import replay
from tutela.ledger.store import Ledger

WRITES = 40


def _writer(url: str, subject: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    ledger = Ledger(open_engine(url))
    start.wait()
    for i in range(WRITES):
        if i % 4 == 3:
            ledger.set_channel(subject, "email", opted_out=bool((i + worker) % 2))
        else:
            ledger.record_consent(
                subject, "testimonials", bool((i + worker) % 2), policy_version="2018-05-25"
            )
    ledger.engine.dispose()


def test_two_processes_one_subject(tutela: Tutela, database_url: str) -> None:
    subject = tutela.ledger.create_subject([("email", "race@example.nl")])
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [
        ctx.Process(target=_writer, args=(database_url, subject, n, start)) for n in range(2)
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    history = tutela.ledger.history(subject)
    assert len(history) == 1 + 2 * WRITES
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert list(tutela.ledger.verify()) == []
    assert replay(tutela.engine)[subject] == tutela.ledger.state(subject)
