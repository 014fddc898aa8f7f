"""Operators and redact(): what replaces a value."""

from __future__ import annotations

import pytest

from tutela.errors import InputError
from tutela.scrub import (
    OPERATORS,
    Encrypt,
    Entity,
    EntityType,
    Generalize,
    Mask,
    Pseudonymize,
    Redact,
    Replace,
    make_operator,
    redact,
)
from tutela.scrub.operators import secret_from_env

E = EntityType
SECRET = b"a test secret of enough length"


def _entity(t: EntityType, value: str) -> Entity:
    return Entity(t, 0, len(value), 1.0, "test")


@pytest.mark.parametrize(
    ("operator", "entity_type", "value", "expected"),
    [
        (Redact(), E.EMAIL, "ann@example.com", ""),  # gone
        (Replace(), E.EMAIL, "ann@example.com", "<EMAIL>"),  # type tag
        (Replace("[removed]"), E.PHONE, "070-123 45 67", "[removed]"),  # fixed text
        (Mask(4), E.PAYMENT_CARD, "4111 1111 1111 1234", "**** **** **** 1234"),  # keeps shape
        (Mask(2, "#"), E.PHONE, "070-123 45 67", "###-### ## 67"),  # other char, keep 2
        (Mask(0), E.IBAN, "NL91", "****"),  # keep nothing
        (Generalize(), E.IP_ADDRESS, "192.168.1.20", "192.168.1.0/24"),  # IPv4 to /24
        (Generalize(), E.IP_ADDRESS, "2001:db8:1:2::7", "2001:db8:1::/48"),  # IPv6 to /48
        (Generalize(), E.DATE_OF_BIRTH, "12. března 1985", "1985"),  # date to year
        (Generalize(), E.EMAIL, "ann@example.com", "<EMAIL>"),  # nothing coarser: the tag
    ],
)
def test_operator(operator: object, entity_type: EntityType, value: str, expected: str) -> None:
    from tutela.scrub import Operator

    assert isinstance(operator, Operator)
    assert operator.apply(value, _entity(entity_type, value)) == expected


def test_pseudonym_is_stable_and_keyed() -> None:
    first = Pseudonymize(SECRET)
    again = Pseudonymize(SECRET)
    other = Pseudonymize(b"another secret, also long")
    email = _entity(E.EMAIL, "Ann@Example.com")
    assert first.apply("Ann@Example.com", email) == again.apply("ann@example.com", email)
    assert first.apply("ann@example.com", email) != other.apply("ann@example.com", email)
    assert first.apply("ann@example.com", email).startswith("<EMAIL:")
    # Separators do not change who a number belongs to.
    phone = _entity(E.PHONE, "070-123 45 67")
    assert first.apply("070-123 45 67", phone) == first.apply("0701234567", phone)


def test_encryption_round_trip_and_determinism() -> None:
    operator = Encrypt(SECRET)
    entity = _entity(E.IBAN, "NL91ABNA0417164300")
    token = operator.apply("NL91ABNA0417164300", entity)
    assert token == operator.apply("NL91ABNA0417164300", entity)
    assert operator.decrypt(token) == (E.IBAN, "NL91ABNA0417164300")
    text = redact("pay to NL91ABNA0417164300 today", operators=operator)
    assert operator.decrypt_text(text) == "pay to NL91ABNA0417164300 today"
    with pytest.raises(InputError):
        Encrypt(b"another secret, also long").decrypt(token)


def test_keys_must_be_long_enough() -> None:
    with pytest.raises(InputError):
        Pseudonymize(b"short")


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUTELA_SCRUB_KEY", raising=False)
    with pytest.raises(InputError, match="TUTELA_SCRUB_KEY"):
        secret_from_env()
    monkeypatch.setenv("TUTELA_SCRUB_KEY", "x" * 20)
    assert secret_from_env() == b"x" * 20


def test_registry() -> None:
    assert set(OPERATORS) == {"redact", "replace", "mask", "hash", "encrypt", "generalize"}
    assert isinstance(make_operator("mask", arg="2"), Mask)
    assert isinstance(make_operator("hash", secret=SECRET), Pseudonymize)
    with pytest.raises(InputError):
        make_operator("hash")
    with pytest.raises(InputError):
        make_operator("shred")


def test_redact_default_and_per_type() -> None:
    text = "Mail ann@example.com or ring 070-123 45 67."
    assert redact(text, lang="sv") == "Mail <EMAIL> or ring <PHONE>."
    masked = redact(text, operators={"PHONE": Mask(2), "*": Redact()}, lang="sv")
    assert masked == "Mail  or ring ***-*** ** 67."
