"""Benchmark: scrubbing throughput on one core, and Presidio's on the same corpus.

The corpus is support-ticket-like text in five languages: documents of about
4 kB made of filler sentences (Faker, per locale) with labelled sentences from
``bench/scrub_eval.py`` mixed in; ``--density`` is the share of sentences that
carry an identifier or a look-alike (0.1 by default, 1.0 for the worst case).
The pool of documents is repeated until the corpus holds ``--mb`` megabytes.

Prints one JSON record per line: {"name", "value", "unit", "cores"}.
Goals: detect_mb_per_s at least 20; speedup_vs_presidio at least 50.

The validators remember their answers for values seen before, and the corpus
repeats a pool of 300 documents, so ``detect_mb_per_s`` is mostly warm; the
``_cold`` records time the first pass over the pool with those caches emptied,
where every value is new.

Presidio (``presidio-analyzer``, optional ``bench`` extra) runs its pattern
recognisers only (e-mail, card, IBAN, IP, URL, date), no NLP model, on a prefix
of the same corpus (``--presidio-mb``) because it is much slower. Times are the
process's CPU time on one pinned core.

    python -P bench/scrub.py [--mb 50] [--density 0.1] [--presidio-mb 2]

The first records say which regex engine ran and whether the hot modules were
compiled: a wheel install is compiled where a C compiler is present, an editable
one is pure Python (see the README's Benchmarks section).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path

# Run as a script, Python puts this folder first on the path, where bench/requests.py
# would stand in for the `requests` library that Presidio imports.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from faker import Faker

from tutela.scrub import COMPILED, ENGINE, detect, redact
from tutela.scrub.validators import clear_caches

HERE = Path(__file__).resolve().parent
DOC_CHARS = 4000
POOL_DOCS = 300  # five languages, 60 documents each


def _eval_module() -> object:
    spec = importlib.util.spec_from_file_location("scrub_eval", HERE / "scrub_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["scrub_eval"] = module
    spec.loader.exec_module(module)
    return module


def corpus(mb: float, density: float, seed: int = 11) -> list[tuple[str, str]]:
    """(language, document) pairs totalling at least ``mb`` megabytes of UTF-8."""
    scrub_eval = _eval_module()
    labelled = scrub_eval.generate(per_lang=600, seed=seed)  # type: ignore[attr-defined]
    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = {}
    for sample in labelled:
        by_lang.setdefault(sample.lang, []).append(sample.text)
    pool: list[tuple[str, str]] = []
    for lang, locale in scrub_eval.LOCALES.items():  # type: ignore[attr-defined]
        fake = Faker(locale)
        fake.seed_instance(seed)
        for _ in range(60):
            parts: list[str] = []
            size = 0
            while size < DOC_CHARS:
                if rng.random() < density:
                    sentence = rng.choice(by_lang[lang])
                else:
                    sentence = fake.sentence(nb_words=12)
                parts.append(sentence)
                size += len(sentence) + 1
            pool.append((lang, " ".join(parts)))
    rng.shuffle(pool)
    pool_bytes = sum(len(doc.encode()) for _, doc in pool)
    repeats = max(1, int(mb * 1e6 / pool_bytes) + 1)
    return pool * repeats


def _mb(docs: list[tuple[str, str]]) -> float:
    return sum(len(doc.encode()) for _, doc in docs) / 1e6


def _time(docs: list[tuple[str, str]], work: object) -> float:
    # CPU time of this process: on a shared machine wall time also counts the
    # other processes' turns on the core.
    assert callable(work)
    start = time.process_time()
    for lang, doc in docs:
        work(doc, lang)
    return time.process_time() - start


def _presidio_mb_per_s(docs: list[tuple[str, str]]) -> float | None:
    try:
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            DateRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            UrlRecognizer,
        )
    except ImportError:
        return None
    recognizers = [
        EmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        DateRecognizer(),
    ]

    def analyse(text: str, lang: str) -> None:
        for recognizer in recognizers:
            recognizer.analyze(text, recognizer.supported_entities, None)

    return _mb(docs) / _time(docs, analyse)


def _record(name: str, value: float | str | bool, unit: str) -> None:
    if isinstance(value, float):
        value = round(value, 2)
    print(json.dumps({"name": name, "value": value, "unit": unit, "cores": 1}))


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its records."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--presidio-mb", type=float, default=2.0)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    docs = corpus(args.mb, args.density)
    size = _mb(docs)
    # What was measured, as records of the same shape as the figures.
    _record("regex_engine", ENGINE, "name")
    _record("compiled", COMPILED, "yes/no")
    _record("corpus_mb", size, "MB")
    _record("density", args.density, "share of sentences")
    pool = docs[:POOL_DOCS]
    clear_caches()
    cold_rate = _mb(pool) / _time(pool, lambda text, lang: detect(text, lang))
    _record("detect_cold_mb_per_s", cold_rate, "MB/s")
    detect_rate = size / _time(docs, lambda text, lang: detect(text, lang))
    _record("detect_mb_per_s", detect_rate, "MB/s")
    redact_rate = size / _time(docs, lambda text, lang: redact(text, lang=lang))
    _record("redact_mb_per_s", redact_rate, "MB/s")
    prefix: list[tuple[str, str]] = []
    while _mb(prefix) < args.presidio_mb and len(prefix) < len(docs):
        prefix.extend(docs[len(prefix) : len(prefix) + 50])
    presidio = _presidio_mb_per_s(prefix)
    if presidio is not None:
        _record("presidio_mb_per_s", presidio, "MB/s")
        _record("speedup_vs_presidio", detect_rate / presidio, "x")
        _record("speedup_vs_presidio_cold", cold_rate / presidio, "x")


if __name__ == "__main__":
    main()
