"""The access package (Art. 15 and 20): a ZIP with ``data.json``, one CSV per collection
and a readable ``index.html``.

Rows stream from the database to temporary files and from there into the
ZIP, so memory stays bounded however many rows the person owns.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from tutela.policy.model import Policy
from tutela.policy.taxonomy import Taxonomy

__all__ = ["MENTION_FIELDS", "PackageSummary", "write_package"]

Rows = Callable[[], Iterator[Mapping[str, Any]]]


@dataclass
class PackageSummary:
    """What went into a package."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    """Mentions of the person in other people's free text."""

    @property
    def total(self) -> int:
        """Rows in all collections."""
        return sum(self.rows.values())


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def write_package(
    path: Path,
    *,
    policy: Policy,
    taxonomy: Taxonomy,
    subject: Mapping[str, Any],
    collections: Iterable[tuple[str, str, Rows]],
    language: str | None = None,
    portable_only: bool = False,
    mentions: Rows | None = None,
) -> PackageSummary:
    """Write the package for one person to ``path``.

    ``collections`` yields (dataset, collection, rows) where ``rows()`` streams the
    person's rows. With ``portable_only`` (a portability request) only fields whose
    categories the policy's ``rights.portability`` covers are included. ``mentions()``
    streams the person's mentions in others' free text (dicts with the keys of
    :data:`MENTION_FIELDS`); they go to ``mentions.csv`` and data.json's ``mentions``.
    """
    summary = PackageSummary(path)
    labels = _field_labels(policy)
    portable = policy.rights.portability
    with tempfile.TemporaryDirectory(prefix="tutela-package-") as tmp:
        scratch = Path(tmp)
        parts: list[tuple[str, Path, Path, list[str]]] = []
        for dataset, collection, rows in collections:
            name = f"{dataset}.{collection}"
            fields = [
                f
                for f in labels.get(name, {})
                if not portable_only
                or any(taxonomy.covers(general, c) for general in portable for c in labels[name][f])
            ]
            if portable_only and not fields:
                continue
            csv_path, jsonl_path = scratch / f"{name}.csv", scratch / f"{name}.jsonl"
            count = 0
            with (
                csv_path.open("w", newline="", encoding="utf-8") as csv_file,
                jsonl_path.open("w", encoding="utf-8") as jsonl_file,
            ):
                writer = csv.writer(csv_file)
                writer.writerow(fields)
                for row in rows():
                    values = [_plain(row.get(f)) for f in fields]
                    writer.writerow(["" if v is None else v for v in values])
                    jsonl_file.write(
                        json.dumps(dict(zip(fields, values, strict=True)), ensure_ascii=False)
                    )
                    jsonl_file.write("\n")
                    count += 1
            summary.rows[name] = count
            parts.append((name, csv_path, jsonl_path, fields))
        mentions_path: Path | None = None
        if mentions is not None:
            mentions_path = scratch / "mentions"
            summary.mentions = _spool_mentions(mentions(), mentions_path)

        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("data.json", "w") as raw:
                _write_json(raw, policy, subject, parts, labels, summary, mentions_path)
            for name, csv_path, _, _ in parts:
                with csv_path.open("rb") as src, archive.open(f"{name}.csv", "w") as dst:
                    shutil.copyfileobj(src, dst)
            if mentions_path is not None:
                mentions_csv = mentions_path.with_suffix(".csv")
                with mentions_csv.open("rb") as src, archive.open("mentions.csv", "w") as dst:
                    shutil.copyfileobj(src, dst)
            archive.writestr(
                "index.html",
                render_index(policy, taxonomy, subject, summary, language=language),
            )
    return summary


MENTION_FIELDS = ("collection", "field", "row", "start", "end", "text", "context")
"""The columns of ``mentions.csv``; ``row`` is the primary key of the row mentioning."""


def _spool_mentions(mentions: Iterator[Mapping[str, Any]], base: Path) -> int:
    """Write mentions to ``base``.csv and ``base``.jsonl as they stream; returns the count."""
    count = 0
    with (
        base.with_suffix(".csv").open("w", newline="", encoding="utf-8") as csv_file,
        base.with_suffix(".jsonl").open("w", encoding="utf-8") as jsonl_file,
    ):
        writer = csv.writer(csv_file)
        writer.writerow(MENTION_FIELDS)
        for mention in mentions:
            item = {k: _plain(mention.get(k)) for k in MENTION_FIELDS}
            item["row"] = {k: _plain(v) for k, v in dict(mention.get("row") or {}).items()}
            row_key = ";".join(f"{k}={v}" for k, v in item["row"].items())
            writer.writerow([row_key if k == "row" else item[k] for k in MENTION_FIELDS])
            jsonl_file.write(json.dumps(item, ensure_ascii=False))
            jsonl_file.write("\n")
            count += 1
    return count


def _field_labels(policy: Policy) -> dict[str, dict[str, tuple[str, ...]]]:
    return {
        f"{d.name}.{c.name}": {f.name: f.categories for f in c.fields}
        for d in policy.datasets
        for c in d.collections
    }


def _write_json(
    raw: Any,
    policy: Policy,
    subject: Mapping[str, Any],
    parts: list[tuple[str, Path, Path, list[str]]],
    labels: Mapping[str, Mapping[str, tuple[str, ...]]],
    summary: PackageSummary,
    mentions_path: Path | None = None,
) -> None:
    def out(text: str) -> None:
        raw.write(text.encode("utf-8"))

    head = {
        "format": "tutela-access-package/1",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "controller": policy.organisation.name,
        "policy_version": policy.version,
        "subject": dict(subject),
    }
    out(json.dumps(head, ensure_ascii=False)[:-1])
    out(', "collections": {')
    for i, (name, _, jsonl_path, fields) in enumerate(parts):
        meta = {f: {"categories": list(labels[name][f])} for f in fields}
        out(("," if i else "") + json.dumps(name) + ': {"fields": ' + json.dumps(meta))
        out(f', "count": {summary.rows[name]}, "rows": [')
        with jsonl_path.open(encoding="utf-8") as lines:
            for j, line in enumerate(lines):
                out(("," if j else "") + line.rstrip("\n"))
        out("]}")
    out("}")
    if mentions_path is not None:
        out(f', "mentions": {{"count": {summary.mentions}, "items": [')
        with mentions_path.with_suffix(".jsonl").open(encoding="utf-8") as lines:
            for j, line in enumerate(lines):
                out(("," if j else "") + line.rstrip("\n"))
        out("]}")
    out("}")


# ---------------------------------------------------------------- index.html

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your data at {org}",
        "held": "What we hold about you",
        "purposes": "Why we use it, and on what legal basis",
        "recipients": "Who receives it",
        "retention": "How long we keep it",
        "rights": "Your rights",
        "complain": "You may complain to a data-protection authority",
        "files": "Files in this package",
        "rows": "rows",
        "country": "country",
        "mechanism": "safeguard",
        "rights_text": "You may ask for access, correction, erasure, restriction, "
        "portability, and object to processing; you may withdraw consent at any time.",
    },
    "sv": {
        "title": "Dina uppgifter hos {org}",
        "held": "Vad vi har om dig",
        "purposes": "Varför vi använder dem och med vilken rättslig grund",
        "recipients": "Vem som tar emot dem",
        "retention": "Hur länge vi sparar dem",
        "rights": "Dina rättigheter",
        "complain": "Du kan klaga hos en dataskyddsmyndighet",
        "files": "Filer i paketet",
        "rows": "rader",
        "country": "land",
        "mechanism": "skyddsåtgärd",
        "rights_text": "Du kan begära tillgång, rättelse, radering, begränsning och "
        "dataportabilitet samt invända mot behandling; du kan när som helst återkalla samtycke.",
    },
    "nl": {
        "title": "Uw gegevens bij {org}",
        "held": "Wat wij over u bewaren",
        "purposes": "Waarom wij ze gebruiken en op welke rechtsgrond",
        "recipients": "Wie ze ontvangt",
        "retention": "Hoe lang wij ze bewaren",
        "rights": "Uw rechten",
        "complain": "U kunt een klacht indienen bij een toezichthouder",
        "files": "Bestanden in dit pakket",
        "rows": "rijen",
        "country": "land",
        "mechanism": "waarborg",
        "rights_text": "U kunt om inzage, rectificatie, wissing, beperking en overdraagbaarheid "
        "vragen en bezwaar maken; u kunt uw toestemming altijd intrekken.",
    },
    "fr": {
        "title": "Vos données chez {org}",
        "held": "Ce que nous détenons sur vous",
        "purposes": "Pourquoi nous les utilisons et sur quelle base légale",
        "recipients": "Qui les reçoit",
        "retention": "Combien de temps nous les conservons",
        "rights": "Vos droits",
        "complain": "Vous pouvez introduire une réclamation auprès d'une autorité de contrôle",
        "files": "Fichiers de ce paquet",
        "rows": "lignes",
        "country": "pays",
        "mechanism": "garantie",
        "rights_text": "Vous pouvez demander l'accès, la rectification, l'effacement, la "
        "limitation et la portabilité, et vous opposer au traitement ; vous pouvez retirer "
        "votre consentement à tout moment.",
    },
    "cs": {
        "title": "Vaše údaje u {org}",
        "held": "Co o vás uchováváme",
        "purposes": "Proč je používáme a na jakém právním základě",
        "recipients": "Kdo je dostává",
        "retention": "Jak dlouho je uchováváme",
        "rights": "Vaše práva",
        "complain": "Můžete podat stížnost u dozorového úřadu",
        "files": "Soubory v tomto balíčku",
        "rows": "řádků",
        "country": "země",
        "mechanism": "záruka",
        "rights_text": "Můžete požádat o přístup, opravu, výmaz, omezení a přenositelnost a "
        "vznést námitku; souhlas můžete kdykoli odvolat.",
    },
}

_env = Environment(
    loader=PackageLoader("tutela.requests", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render_index(
    policy: Policy,
    taxonomy: Taxonomy,
    subject: Mapping[str, Any],
    summary: PackageSummary,
    *,
    language: str | None = None,
) -> str:
    """The readable page of the package, in the person's language where the policy has it."""
    lang = language if language in _LABELS and language in policy.organisation.languages else None
    lang = lang or next((x for x in policy.organisation.languages if x in _LABELS), "en")
    words = _LABELS[lang]
    held: set[str] = set()
    for d in policy.datasets:
        for c in d.collections:
            if summary.rows.get(f"{d.name}.{c.name}"):
                for f in c.fields:
                    held.update(f.categories)

    def name_of(kind: str, key: str) -> str:
        if kind == "country":
            country = taxonomy.countries.get(key)
            return country.name if country else key
        if kind == "transfer_mechanism":
            mechanism = taxonomy.transfer_mechanisms.get(key)
            return mechanism.name if mechanism else key
        term = taxonomy.get(kind, key)  # type: ignore[arg-type]
        return term.name if term else key

    return _env.get_template("index.html").render(
        lang=lang,
        words=words,
        title=words["title"].format(org=policy.organisation.name),
        policy=policy,
        subject=subject,
        held=sorted((k, name_of("data_category", k)) for k in held),
        summary=summary,
        name_of=name_of,
    )
