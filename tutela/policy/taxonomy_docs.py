"""The taxonomy reference page (``docs/taxonomy.md``), generated from the data files.

``python scripts/gen_taxonomy_docs.py`` rewrites the page; a test checks that the
committed page equals :func:`render_markdown`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tutela.policy.taxonomy import (
    Country,
    Jurisdiction,
    Kind,
    Period,
    Taxonomy,
    Term,
    TransferMechanism,
    builtin,
)

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _code(text: str) -> str:
    return f"`{text}`"


def _adequacy(country: Country) -> str:
    if not country.adequacy and not country.adequacy_note:
        return ""
    note = f" ({country.adequacy_note})" if country.adequacy_note else ""
    return ("yes" if country.adequacy else "no") + note


def _described(term: Term) -> str:
    note = f" *Note: {term.dpv_note}*" if term.dpv_note else ""
    return term.description + note


def _flags(term: Term) -> str:
    marks = [
        name
        for name, on in (
            ("marketing", term.marketing),
            ("sale", term.sale),
            ("targeted advertising", term.targeted_advertising),
        )
        if on
    ]
    if term.channel:
        marks.append(f"channel: {term.channel}")
    return ", ".join(marks)


def render_markdown(taxonomy: Taxonomy | None = None) -> str:
    """The reference page ``docs/taxonomy.md``, generated from the data files."""
    tax = taxonomy if taxonomy is not None else builtin()
    key = _code
    out = [
        "# Built-in taxonomy",
        "",
        "<!-- Generated from tutela/policy/data/*.yaml by scripts/gen_taxonomy_docs.py;"
        " do not edit. -->",
        "",
        "Keys are dotted: a key covers every key below it, so a purpose declared for",
        "`user.contact` may use `user.contact.email`. A policy file may add its own keys",
        "under any existing key (`taxonomy:` section). Each key maps to a concept of the",
        "[W3C Data Privacy Vocabulary](https://w3id.org/dpv) (`dpv:`, personal data",
        "`pd:`, GDPR `eu-gdpr:`); where the concept is broader than the key, a note says so.",
        "",
        "## Sensitivity",
        "",
        "A data category marked sensitive passes its marking to every key below it.",
        "",
    ]
    out += _table(
        ["Marking", "Meaning"],
        [
            ["`special_category`", "GDPR Art. 9(1) special categories; CCPA sensitive data"],
            ["`national_id`", "National identification, passport and driving licence numbers"],
            ["`payment_card`", "Payment card number, expiry and security code"],
            ["`precise_location`", "Location within about 564 m (1,850 ft)"],
            ["`children`", "Data about children (GDPR Art. 8, COPPA)"],
            ["`criminal`", "Criminal convictions and offences (GDPR Art. 10)"],
        ],
    )
    sections: list[tuple[Kind, str]] = [
        ("data_category", "Data categories"),
        ("data_use", "Data uses (purposes)"),
        ("data_subject", "Data subjects"),
    ]
    for kind, title in sections:
        terms = tax.terms(kind).values()
        out += [f"## {title}", "", f"{len(terms)} keys.", ""]
        if kind == "data_use":
            out += _table(
                ["Key", "Name", "DPV", "Flags", "Description"],
                ([key(t.key), t.name, key(t.dpv), _flags(t), _described(t)] for t in terms),
            )
        else:
            out += _table(
                ["Key", "Name", "DPV", "Sensitive", "Description"],
                ([key(t.key), t.name, key(t.dpv), t.sensitive or "", _described(t)] for t in terms),
            )
    out += ["## Legal bases", ""]
    out += _table(
        ["Key", "Name", "Article", "DPV", "Description"],
        (
            [key(t.key), t.name, t.article or "", key(t.dpv), _described(t)]
            for t in tax.terms("legal_basis").values()
        ),
    )
    out += ["## Transfer mechanisms", ""]

    def validity(m: TransferMechanism) -> str:
        parts = []
        if m.valid_from:
            parts.append(f"from {m.valid_from.isoformat()}")
        if m.valid_until:
            parts.append(f"invalid since {m.valid_until.isoformat()}")
        if m.invalidated_by:
            parts.append(f"({m.invalidated_by})")
        if m.requires_destination:
            parts.append(f"destination {m.requires_destination} only")
        return " ".join(parts)

    out += _table(
        ["Key", "Name", "Article", "DPV", "Validity", "Description"],
        (
            [key(m.key), m.name, m.article or "", key(m.dpv), validity(m), _described(m)]
            for m in tax.transfer_mechanisms.values()
        ),
    )
    out += ["## Jurisdictions", ""]

    def optional(period: Period | None) -> str:
        return str(period) if period else ""

    def area(j: Jurisdiction) -> str:
        if j.subdivisions:
            return ", ".join(sorted(j.subdivisions))
        if len(j.countries) > 5:
            return f"{len(j.countries)} countries"
        return ", ".join(sorted(j.countries))

    jurisdictions = list(tax.jurisdictions.values())
    out += _table(
        ["Key", "Name", "Law", "Covers", "In force"],
        ([key(j.key), j.name, j.law, area(j), j.in_force.isoformat()] for j in jurisdictions),
    )
    out += _table(
        ["Key", "Answer", "Extension", "Acknowledge", "Opt-out", "GPC binding", "Age", "Source"],
        (
            [
                key(j.key),
                str(j.response),
                optional(j.extension),
                optional(j.acknowledge),
                optional(j.opt_out),
                "yes" if j.gpc_binding else "no",
                str(j.default_age_of_digital_consent or ""),
                j.source,
            ]
            for j in jurisdictions
        ),
    )
    out += [
        "## Countries",
        "",
        f"All {len(tax.countries)} ISO 3166-1 alpha-2 codes are known. Those with facts:",
        "",
    ]

    def facts(c: Country) -> bool:
        return (
            c.eea
            or c.adequacy
            or c.adequacy_note is not None
            or c.age_of_digital_consent is not None
        )

    out += _table(
        ["Code", "Name", "EU", "EEA", "Adequacy", "Age of digital consent"],
        (
            [
                c.code,
                c.name,
                "yes" if c.eu else "",
                "yes" if c.eea else "",
                _adequacy(c),
                str(c.age_of_digital_consent or ""),
            ]
            for c in sorted(tax.countries.values(), key=lambda c: c.code)
            if facts(c)
        ),
    )
    return "\n".join(out).rstrip("\n") + "\n"
