"""Accuracy of the scrubber: precision, recall and F1 per entity type and language.

Two labelled sets:

- a generated corpus: Faker values (locales sv_SE, nl_NL, fr_FR, cs_CZ, en_GB),
  each confirmed valid before use, in sentence templates written in each language,
  mixed with sentences that hold look-alikes (order numbers, amounts, times, dates
  that are not birth dates) and must yield nothing;
- the hand-written set in ``tests/data/scrub/handwritten.jsonl``.

A match counts when type, start and end are exactly those of the label.

    python bench/scrub_eval.py [--per-lang 400] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum import luhn
from stdnum.cz import dic as cz_dic
from stdnum.cz import rc as cz_rc
from stdnum.eu import vat as eu_vat
from stdnum.fr import nir as fr_nir
from stdnum.nl import bsn as nl_bsn
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_pnr

from tutela.scrub import detect

ROOT = Path(__file__).resolve().parent.parent
HANDWRITTEN = ROOT / "tests" / "data" / "scrub" / "handwritten.jsonl"

LOCALES = {"sv": "sv_SE", "nl": "nl_NL", "fr": "fr_FR", "cs": "cs_CZ", "en": "en_GB"}
REGION = {"sv": "SE", "nl": "NL", "fr": "FR", "cs": "CZ", "en": "GB"}
STRUCTURED = (
    "EMAIL",
    "PHONE",
    "IBAN",
    "PAYMENT_CARD",
    "IP_ADDRESS",
    "URL",
    "NATIONAL_ID",
    "ORG_ID",
    "VAT_ID",
    "DATE_OF_BIRTH",
    "SECRET",
)


@dataclass(frozen=True, slots=True)
class Sample:
    """A text with its language and its labelled spans ``(type, start, end)``."""

    text: str
    lang: str
    spans: tuple[tuple[str, int, int], ...]


# --- values ---------------------------------------------------------------------------


def _until(make: Callable[[], str], ok: Callable[[str], bool]) -> str:
    for _ in range(10_000):
        value = make()
        if ok(value):
            return value
    raise RuntimeError("no valid value generated")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _phone(fake: Faker, lang: str) -> str:
    region = REGION[lang]

    def ok(value: str) -> bool:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)

    return _until(fake.phone_number, ok)


def _published_range(number: str) -> bool:
    # Faker draws JCB numbers from all of 35xx and Maestro from the retired 0604
    # and the old 15-digit JCB 2131/1800 ranges; those are not cards issued today.
    if number.startswith("35"):
        return "3528" <= number[:4] <= "3589"
    return not number.startswith(("0604", "2131", "1800"))


def _card(fake: Faker, rng: random.Random) -> str:
    number = _until(fake.credit_card_number, _published_range)
    style = rng.random()
    if style < 0.4 and len(number) == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    if style < 0.6 and len(number) == 16:
        return "-".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _iban(fake: Faker, rng: random.Random) -> str:
    value = fake.iban()
    if rng.random() < 0.5:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def _national_id(fake: Faker, lang: str, rng: random.Random) -> str | None:
    if lang == "sv":
        return _until(fake.ssn, se_pnr.is_valid)
    if lang == "nl":
        return _until(fake.ssn, nl_bsn.is_valid)
    if lang == "fr":
        value = _until(fake.ssn, fr_nir.is_valid)
        if rng.random() < 0.5:
            d = value
            return f"{d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:10]} {d[10:13]} {d[13:]}"
        return value
    if lang == "cs":
        # Faker's birth numbers sometimes carry impossible dates (31 November).
        return _until(lambda: str(fake.birth_number()), cz_rc.is_valid)
    return None


def _org_id(fake: Faker, lang: str, rng: random.Random) -> str | None:
    if lang == "sv":
        # Faker's sv_SE org_id draws from the global random module: not reproducible.
        body = _until(lambda: _digits(rng, 9), lambda d: d[0] != "0" and d[2] >= "2")
        value = body + luhn.calc_check_digit(body)
        assert se_orgnr.is_valid(value)
        return f"{value[:6]}-{value[6:]}"
    if lang == "fr":
        return str(fake.siret() if rng.random() < 0.5 else fake.siren())
    return None


def _vat_id(lang: str, rng: random.Random) -> str:
    if lang == "sv":
        org = _until(lambda: _digits(rng, 9) + "", lambda d: d[2] >= "2")
        org += str(luhn.calc_check_digit(org))
        return f"SE{org}01"
    if lang == "nl":
        return _until(lambda: f"NL{_digits(rng, 9)}B{_digits(rng, 2)}", eu_vat.is_valid)
    if lang == "fr":
        siren = _until(lambda: _digits(rng, 9), luhn.is_valid)
        key = (12 + 3 * (int(siren) % 97)) % 97
        return f"FR{key:02d}{siren}"
    if lang == "cs":
        return _until(lambda: f"CZ{_digits(rng, 8)}", cz_dic.is_valid)
    return _until(lambda: f"DE{_digits(rng, 9)}", eu_vat.is_valid)


_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "cs": "ledna února března dubna května června července srpna září října listopadu prosince",
}


def _birth_date(fake: Faker, lang: str, rng: random.Random) -> str:
    d = fake.date_of_birth(minimum_age=18, maximum_age=90)
    month = _MONTHS[lang].split()[d.month - 1]
    styles = {
        "en": [f"{d.day} {month} {d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}"],
        "sv": [d.isoformat(), f"{d.day} {month} {d.year}"],
        "nl": [f"{d.day:02d}-{d.month:02d}-{d.year}", f"{d.day} {month} {d.year}"],
        "fr": [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {month} {d.year}"],
        "cs": [f"{d.day}. {d.month}. {d.year}", f"{d.day}. {month} {d.year}"],
    }
    return rng.choice(styles[lang])


def _secret(fake: Faker, rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    kinds = [
        "sk_live_" + "".join(rng.choice(alnum) for _ in range(24)),
        "ghp_" + "".join(rng.choice(alnum) for _ in range(36)),
        "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
    ]
    return rng.choice(kinds)


# --- templates ----------------------------------------------------------------------------

T = dict[str, dict[str, tuple[str, ...]]]
TEMPLATES: T = {
    "EMAIL": {
        "en": ("Please write to {} about the refund.", "Contact: {}"),
        "sv": ("Skicka svaret till {} så snart som möjligt.", "Min e-post är {}"),
        "nl": ("Stuur het naar {} alstublieft.", "Mijn e-mailadres is {}."),
        "fr": ("Écrivez-moi à {} merci.", "Mon adresse e-mail : {}"),
        "cs": ("Napište mi na {} prosím.", "Můj e-mail je {}."),
    },
    "PHONE": {
        "en": ("Call me on {} after six.", "My phone number is {}."),
        "sv": ("Ring mig på {} efter klockan sex.", "Mitt telefonnummer är {}."),
        "nl": ("Bel me op {} na zes uur.", "Mijn telefoonnummer is {}."),
        "fr": ("Appelez-moi au {} après 18h.", "Mon numéro de téléphone est le {}."),
        "cs": ("Zavolejte mi na {} po šesté.", "Moje telefonní číslo je {}."),
    },
    "IBAN": {
        "en": ("Please refund to {} today.", "My IBAN is {}."),
        "sv": ("Betala tillbaka till {} tack.", "Mitt IBAN är {}."),
        "nl": ("Graag terugstorten op {} vandaag.", "Mijn IBAN is {}."),
        "fr": ("Remboursez sur le compte {} svp.", "Mon IBAN est {}."),
        "cs": ("Vraťte peníze na účet {} prosím.", "Můj IBAN je {}."),
    },
    "PAYMENT_CARD": {
        "en": ("I paid with card {} yesterday.", "Card number {} was charged twice."),
        "sv": ("Jag betalade med kortet {} igår.", "Kortnummer {} drogs två gånger."),
        "nl": ("Ik betaalde met kaart {} gisteren.", "Kaartnummer {} is twee keer belast."),
        "fr": ("J'ai payé avec la carte {} hier.", "La carte {} a été débitée deux fois."),
        "cs": ("Platil jsem kartou {} včera.", "Z karty {} se strhlo dvakrát."),
    },
    "IP_ADDRESS": {
        "en": ("Login from IP {} was blocked.", "The request came from {} at noon."),
        "sv": ("Inloggning från IP {} blockerades.", "Anropet kom från {} vid lunch."),
        "nl": ("Inloggen vanaf IP {} is geblokkeerd.", "Het verzoek kwam van {} om twaalf."),
        "fr": ("Connexion depuis l'IP {} bloquée.", "La requête venait de {} à midi."),
        "cs": ("Přihlášení z IP {} bylo zablokováno.", "Požadavek přišel z {} v poledne."),
    },
    "URL": {
        "en": ("Reset link: {} (expires soon).", "See {} for details."),
        "sv": ("Återställningslänk: {} gäller en timme.", "Se {} för detaljer."),
        "nl": ("Resetlink: {} verloopt snel.", "Zie {} voor details."),
        "fr": ("Lien de réinitialisation : {} expire bientôt.", "Voir {} pour les détails."),
        "cs": ("Odkaz pro obnovení: {} brzy vyprší.", "Podrobnosti na {} najdete."),
    },
    "NATIONAL_ID": {
        "sv": ("Mitt personnummer är {}.", "Personnr {} står på fakturan."),
        "nl": ("Mijn BSN is {}.", "Burgerservicenummer {} staat op de brief."),
        "fr": ("Mon numéro de sécurité sociale est {}.", "NIR : {} pour le dossier."),
        "cs": ("Moje rodné číslo je {}.", "Rodné číslo {} je ve smlouvě."),
    },
    "ORG_ID": {
        "sv": ("Vårt organisationsnummer är {}.", "Faktura till orgnr {} tack."),
        "fr": ("Notre SIRET est {}.", "Entreprise immatriculée {} au RCS."),
    },
    "VAT_ID": {
        "en": ("Our VAT number is {}.", "Invoice to VAT {} please."),
        "sv": ("Vårt momsnummer är {}.", "Momsreg.nr {} på fakturan."),
        "nl": ("Ons btw-nummer is {}.", "Factuur met btw-id {} graag."),
        "fr": ("Notre numéro de TVA est {}.", "TVA intracommunautaire {} sur la facture."),
        "cs": ("Naše DIČ je {}.", "Fakturujte na DIČ {} prosím."),
    },
    "DATE_OF_BIRTH": {
        "en": ("I was born on {} in Leeds.", "Date of birth: {}"),
        "sv": ("Jag är född {} i Malmö.", "Födelsedatum: {}"),
        "nl": ("Ik ben geboren op {} in Utrecht.", "Geboortedatum: {}"),
        "fr": ("Je suis née le {} à Lyon.", "Date de naissance : {}"),
        "cs": ("Narodil jsem se {} v Brně, narozen {} podle OP.", "Datum narození: {}"),
    },
    "SECRET": {
        "en": ("Here is the key {} do not share it.", "Use token {} for the sandbox."),
        "sv": ("Här är nyckeln {} dela den inte.", "Använd nyckeln {} i testmiljön."),
        "nl": ("Hier is de sleutel {} niet delen.", "Gebruik sleutel {} voor de test."),
        "fr": ("Voici la clé {} ne la partagez pas.", "Utilisez la clé {} en test."),
        "cs": ("Tady je klíč {} nesdílejte ho.", "Použijte klíč {} v testu."),
    },
}

NEGATIVES: dict[str, tuple[str, ...]] = {
    "en": (
        "Order 4471920 shipped on 12.03.2024 for 1 250 000 GBP.",
        "The meeting is on 3 March 2024 at 10:30:00 in room 4.2.1.",
        "Version 2.14.3.7 fixed the crash; see ticket 88213.",
        "We sold 1,234,567 units last year.",
    ),
    "sv": (
        "Ordernummer 4471920 skickades 2024-03-12 för 12 500 kr.",
        "Mötet är den 3 mars 2024 kl. 10.30 i rum 4.2.1.",
        "Version 2.14.3.7 rättade felet; se ärende 88213.",
    ),
    "nl": (
        "Bestelling 4471920 is verzonden op 12-03-2024 voor 1.250 euro.",
        "De vergadering is op 3 maart 2024 om 10:30 in zaal 4.2.1.",
        "Versie 2.14.3.7 loste het probleem op; zie ticket 88213.",
    ),
    "fr": (
        "La commande 4471920 est partie le 12/03/2024 pour 1 250 000 EUR.",
        "La réunion est le 3 mars 2024 à 10:30 en salle 4.2.1.",
        "La version 2.14.3.7 corrige le bug ; voir le ticket 88213.",
    ),
    "cs": (
        "Objednávka 4471920 odešla 12. 3. 2024 za 1 250 000 Kč.",
        "Schůzka je 3. března 2024 v 10:30 v místnosti 4.2.1.",
        "Verze 2.14.3.7 opravila chybu; viz požadavek 88213.",
    ),
}


def _value(kind: str, fake: Faker, lang: str, rng: random.Random) -> str | None:
    if kind == "EMAIL":
        return str(fake.email())
    if kind == "PHONE":
        return _phone(fake, lang)
    if kind == "IBAN":
        return _iban(fake, rng)
    if kind == "PAYMENT_CARD":
        return _card(fake, rng)
    if kind == "IP_ADDRESS":
        return str(fake.ipv4() if rng.random() < 0.6 else fake.ipv6())
    if kind == "URL":
        token = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(28))
        return f"https://{fake.domain_name()}/reset?token={token}"
    if kind == "NATIONAL_ID":
        return _national_id(fake, lang, rng)
    if kind == "ORG_ID":
        return _org_id(fake, lang, rng)
    if kind == "VAT_ID":
        return _vat_id(lang, rng)
    if kind == "DATE_OF_BIRTH":
        return _birth_date(fake, lang, rng)
    if kind == "SECRET":
        return _secret(fake, rng)
    raise ValueError(kind)


def _fill(template: str, kind: str, values: list[str], lang: str) -> Sample:
    parts = template.split("{}")
    text = parts[0]
    spans = []
    for value, rest in zip(values, parts[1:], strict=True):
        spans.append((kind, len(text), len(text) + len(value)))
        text += value + rest
    return Sample(text, lang, tuple(spans))


def generate(per_lang: int = 400, seed: int = 7) -> list[Sample]:
    """A labelled corpus: ``per_lang`` sentences per language, a fifth of them negatives."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    for lang, locale in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        kinds = [k for k in TEMPLATES if lang in TEMPLATES[k]]
        for i in range(per_lang):
            if i % 5 == 4:
                samples.append(Sample(rng.choice(NEGATIVES[lang]), lang, ()))
                continue
            kind = kinds[i % len(kinds)]
            template = rng.choice(TEMPLATES[kind][lang])
            values = []
            for _ in range(template.count("{}")):
                value = _value(kind, fake, lang, rng)
                assert value is not None
                values.append(value)
            samples.append(_fill(template, kind, values, lang))
    return samples


def load_handwritten(path: Path = HANDWRITTEN) -> list[Sample]:
    """The hand-written set: JSONL of ``{"text", "lang", "entities": [{"type", "value"}]}``.

    Values are located in the text (the n-th occurrence for a repeated value), so
    the file stays readable and offsets cannot drift when a sentence is edited.
    """
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        text = record["text"]
        spans = []
        seen: dict[str, int] = {}
        for entity in record["entities"]:
            value = entity["value"]
            start = -1
            for _ in range(seen.get(value, 0) + 1):
                start = text.index(value, start + 1)
            seen[value] = seen.get(value, 0) + 1
            spans.append((entity["type"], start, start + len(value)))
        samples.append(Sample(text, record["lang"], tuple(spans)))
    return samples


# --- scoring ------------------------------------------------------------------------------


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp), 1 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn), 1 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Result:
    """Counts per type, per (type, language), and the misses for inspection."""

    by_type: dict[str, Counts] = field(default_factory=dict)
    by_type_lang: dict[tuple[str, str], Counts] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def evaluate(samples: Iterable[Sample]) -> Result:
    """Run ``detect`` on every sample and count exact matches of type and span."""
    result = Result()
    for sample in samples:
        gold = set(sample.spans)
        found = {(e.type.value, e.start, e.end) for e in detect(sample.text, lang=sample.lang)}
        for kind, start, end in gold | found:
            counts = result.by_type.setdefault(kind, Counts())
            per_lang = result.by_type_lang.setdefault((kind, sample.lang), Counts())
            if (kind, start, end) in gold and (kind, start, end) in found:
                counts.tp += 1
                per_lang.tp += 1
                continue
            outcome = "missed" if (kind, start, end) in gold else "spurious"
            if outcome == "missed":
                counts.fn += 1
                per_lang.fn += 1
            else:
                counts.fp += 1
                per_lang.fp += 1
            value = sample.text[start:end]
            result.errors.append((outcome, kind, f"{value!r} in {sample.text!r}"))
    return result


def _table(title: str, result: Result) -> str:
    lines = [title, f"{'type':<15}{'lang':<6}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"]
    for kind in sorted(result.by_type):
        c = result.by_type[kind]
        n = c.tp + c.fn
        lines.append(f"{kind:<15}{'all':<6}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{n:6d}")
        for (k, lang), cl in sorted(result.by_type_lang.items()):
            if k == kind:
                n = cl.tp + cl.fn
                lines.append(
                    f"{'':<15}{lang:<6}{cl.precision:7.3f}{cl.recall:7.3f}{cl.f1:7.3f}{n:6d}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the tables (or JSON with ``--json``) for both labelled sets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-lang", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)
    sets = {
        "generated": evaluate(generate(args.per_lang, args.seed)),
        "handwritten": evaluate(load_handwritten()),
    }
    if args.json:
        out = {
            name: {kind: round(c.f1, 4) for kind, c in sorted(r.by_type.items())}
            for name, r in sets.items()
        }
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for name, result in sets.items():
        print(_table(f"== {name} ==", result))
        if args.errors:
            for error in result.errors:
                print("  ", *error)
        print()


if __name__ == "__main__":
    main()
