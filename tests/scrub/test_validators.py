"""The validators on their own: valid values pass, near misses fail."""

from __future__ import annotations

import pytest

from tutela.scrub import validators as v


@pytest.mark.parametrize(
    ("digits", "scheme"),
    [
        ("4111111111111111", "visa"),  # the classic Visa test number
        ("5555555555554444", "mastercard"),  # Mastercard 51-55 range
        ("2221000000000009", "mastercard"),  # Mastercard 2-series range
        ("378282246310005", "amex"),  # American Express, 15 digits
        ("6011111111111117", "discover"),  # Discover 6011
        ("3530111333300000", "jcb"),  # JCB 3528-3589
        ("6759649826438453", "maestro"),  # Maestro (UK) 67xx
        ("4111111111111112", None),  # Luhn fails on the last digit
        ("1234567812345670", None),  # Luhn holds but no issuer uses 12xx at 16 digits
        ("41111111111", None),  # too short for any card
    ],
)
def test_card_issuer(digits: str, scheme: str | None) -> None:
    assert v.card_issuer(digits) == scheme


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("NL91ABNA0417164300", True),  # Dutch IBAN, 18 characters
        ("SE4550000000058398257466", True),  # Swedish IBAN, 24 characters
        ("FR1420041010050500013M02606", True),  # French IBAN with a letter in the BBAN
        ("CZ6508000000192000145399", True),  # Czech IBAN
        ("GB29NWBK60161331926819", True),  # British IBAN
        ("NL91ABNA0417164301", False),  # mod 97 fails
        ("NL91ABNA04171643001", False),  # right checksum digits but one too many for NL
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert v.valid_iban(iban) is valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("811228-9874", "se.personnummer"),  # ten digits with dash
        ("19811228-9874", "se.personnummer"),  # twelve digits with century
        ("811228+9874", "se.personnummer"),  # plus sign: person aged 100 or more
        ("701063-2391", "se.samordningsnummer"),  # coordination number: day + 60
        ("811228-9875", None),  # Luhn fails
        ("811328-9876", None),  # month 13
    ],
)
def test_se_personnummer(value: str, expected: str | None) -> None:
    assert v.valid_se_personnummer(value) == expected


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (v.valid_se_orgnr, "5566778899", True),  # Swedish organisationsnummer
        (v.valid_se_orgnr, "8112289874", False),  # a personnummer: third digit below 2
        (v.valid_nl_bsn, "123456782", True),  # Dutch BSN, eleven test holds
        (v.valid_nl_bsn, "123456789", False),  # eleven test fails
        (v.valid_cz_rc, "7103192745", True),  # Czech rodné číslo of a man
        (v.valid_cz_rc, "7360285163", True),  # of a woman: month + 50
        (v.valid_cz_rc, "7103192746", False),  # not divisible by 11
        (v.valid_fr_nir, "295109912611193", True),  # French NIR with its key
        (v.valid_fr_nir, "295109912611194", False),  # wrong key
        (v.valid_fr_siren, "732829320", True),  # French SIREN
        (v.valid_fr_siren, "732829321", False),  # Luhn fails
        (v.valid_fr_siret, "73282932000074", True),  # French SIRET
        (v.valid_fr_siret, "73282932000075", False),  # Luhn fails
    ],
)
def test_national_and_company_numbers(check: object, value: str, valid: bool) -> None:
    assert callable(check)
    assert check(value) is valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NL000099998B57", "nl.btw"),  # Dutch BTW-id
        ("CZ25123891", "cz.dic"),  # Czech DIČ of a company
        ("SE556677889901", "eu.vat"),  # Swedish VAT: orgnr + 01
        ("FR40303265045", "eu.vat"),  # French VAT: key + SIREN
        ("DE136695976", "eu.vat"),  # German USt-IdNr
        ("NL000099998B58", None),  # Dutch, wrong check
        ("XX123456789", None),  # no such country
    ],
)
def test_vat(value: str, expected: str | None) -> None:
    assert v.valid_vat(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.168.1.20", "ipv4"),  # private IPv4
        ("2001:db8::8a2e:370:7334", "ipv6"),  # compressed IPv6
        ("::1", "ipv6"),  # loopback, fully compressed
        ("::ffff:192.0.2.1", "ipv6"),  # IPv4-mapped
        ("256.1.1.1", None),  # octet out of range
        ("12:30:45", None),  # a time, not an address
    ],
)
def test_ip(value: str, expected: str | None) -> None:
    assert v.valid_ip(value) == expected


@pytest.mark.parametrize(
    ("url", "flags"),
    [
        ("https://example.com/a/b", ()),  # nothing secret
        ("https://ann:s3cret@example.com/", ("credentials",)),  # user and password in it
        ("https://example.com/cb?access_token=abc", ("token",)),  # token-named parameter
        ("https://x.io/?q=Zk9xT3pLq8WmR2vB7nYc4d", ("token",)),  # long random value
        ("https://example.com/?page=2&lang=sv", ()),  # ordinary parameters
    ],
)
def test_url_flags(url: str, flags: tuple[str, ...]) -> None:
    assert v.url_flags(url) == flags


@pytest.mark.parametrize(
    ("value", "regions", "expected"),
    [
        ("070-123 45 67", ("SE",), "SE"),  # Swedish mobile, national format
        ("06-12345678", ("NL",), "NL"),  # Dutch mobile
        ("01 23 45 67 89", ("FR",), "FR"),  # Paris landline
        ("601 234 567", ("CZ",), "CZ"),  # Czech mobile, no trunk prefix
        ("020 7946 0958", ("GB",), "GB"),  # London landline
        ("212-555-0199", ("US",), "US"),  # New York
        ("+46 70 123 45 67", ("GB",), "SE"),  # international form: its own country
        ("070-123 45 67", ("US",), None),  # not a US number
    ],
)
def test_phone(value: str, regions: tuple[str, ...], expected: str | None) -> None:
    assert v.phone_region_match(value, regions) == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "ok"),
    [
        (12, 3, 1985, True),  # ordinary
        (29, 2, 1984, True),  # leap day
        (29, 2, 1985, False),  # no leap day that year
        (1, 1, 1850, False),  # too long ago to be a living person's birth date
        (1, 1, 85, True),  # two-digit year read as 1985
    ],
)
def test_parse_date(day: int, month: int, year: int, ok: bool) -> None:
    assert (v.parse_date(day, month, year) is not None) is ok


# --- the same answers as python-stdnum ---------------------------------------------------


def _digit_strings(n: int, count: int, seed: int) -> list[str]:
    # Random digits, and as many with a valid Luhn or mod 11 digit, so that both
    # answers are tried often.
    import random

    from stdnum import luhn

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        d = "".join(rng.choice("0123456789") for _ in range(n))
        out.append(d)
        out.append(d[:-1] + luhn.calc_check_digit(d[:-1]))
        out.append(d[:-1] + str(int(d[:-1]) % 11 % 10))
    return out


def test_numbers_agree_with_stdnum() -> None:
    from stdnum.cz import rc
    from stdnum.fr import nir, siren, siret
    from stdnum.nl import bsn
    from stdnum.se import orgnr

    for d in _digit_strings(9, 3000, 1):
        assert v.valid_nl_bsn(d) == bsn.is_valid(d), d
        assert v.valid_fr_siren(d) == siren.is_valid(d), d
        assert v.valid_cz_rc(d) == rc.is_valid(d), d
    for d in _digit_strings(10, 3000, 2):
        assert v.valid_se_orgnr(d) == (d[2] >= "2" and orgnr.is_valid(d)), d
        assert v.valid_cz_rc(d) == rc.is_valid(d), d
    for d in [*_digit_strings(14, 2000, 3), *_digit_strings(14, 200, 4)]:
        assert v.valid_fr_siret(d) == (v.is_luhn(d) and siret.is_valid(d)), d
    for d in ["35600000000048", "35600000012345", "35600000000055"]:
        assert v.valid_fr_siret(d) == (v.is_luhn(d) and siret.is_valid(d)), d
    for d in _digit_strings(15, 2000, 5):
        for value in (d, d[:5] + "2A" + d[7:], d[:5] + "2B" + d[7:]):
            assert v.valid_fr_nir(value) == nir.is_valid(value), value
            key = f"{97 - int(value[:13].replace('2A', '19').replace('2B', '18')) % 97:02d}"
            assert v.valid_fr_nir(value[:13] + key) == nir.is_valid(value[:13] + key), value


def test_personnummer_agrees_with_stdnum() -> None:
    from stdnum.se import personnummer

    for d in _digit_strings(10, 4000, 6):
        for value in (d, f"{d[:6]}-{d[6:]}", f"{d[:6]}+{d[6:]}", f"19{d}", f"20{d[:6]}-{d[6:]}"):
            expected = personnummer.is_valid(value) or None
            if expected and int(v.digits_of(value)[-6:-4]) > 60:
                expected = None  # stdnum knows no samordningsnummer
            found = v.valid_se_personnummer(value)
            assert (found == "se.personnummer" or None) == expected, value


def test_validators_refuse_other_characters() -> None:
    assert not v.valid_nl_bsn("12345678a")
    assert not v.valid_cz_rc("710319274\u0665")  # an Arabic-Indic five
    assert not v.valid_fr_siren("73282932O")
    assert not v.valid_fr_nir("2951099126111\uff193")  # a full-width nine


def test_ipv6_agrees_with_ipaddress() -> None:
    import ipaddress
    import random

    def reference(value: str) -> str | None:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        return "ipv4" if address.version == 4 else "ipv6"

    rng = random.Random(3)
    pieces = ["", "0", "1", "ff", "FFFF", "12345", "db8", ":", "1.2.3.4", "01.2.3.4", "256.1.1.1"]
    pieces += ["1.2.3", "g", "00000", ".", "1.2.3.4.5", "::"]
    for _ in range(20_000):
        value = ":".join(rng.choice(pieces) for _ in range(rng.randint(2, 10)))
        value = rng.choice(["", ":", "::"]) + value + rng.choice(["", ":", "::"])
        assert v.valid_ip(value) == reference(value), value
