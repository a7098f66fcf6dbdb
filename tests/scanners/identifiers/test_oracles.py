"""Differential tests against independent validators: email-validator and python-stdnum.

Where we disagree on purpose, the difference is named here and checked to be the only one.
"""

from __future__ import annotations

import itertools
import random

from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn

from scanners.identifiers import card, email, iban

LOCALS = ["anna", "anna.berg", "A.B+tag", "jörgen", "andré", "Ωmega", "a..b", ".a", "a.", "a_b",
          "a-b", "x" * 64, "x" * 65, "a b", 'a"b', "o'neil", "a#b", "1", "a(b)",
          "ö" * 32]  # fmt: skip
DOMAINS = ["example.se", "Example.Com", "räksmörgås.se", "xn--rksmrgs-5wao1o.se",
           "example.xn--p1ai", "-a.se", "a-.se", "a_b.se", "se", "a.123", "sub.example.co.uk",
           "a" * 63 + ".se", "a" * 64 + ".se", "ex--ample.se", "EXAMPLE.SE", "exa mple.se",
           "例え.jp", "a.b.c.d.e.f.se", "xn--zz.se", "a..se", "a.s"]  # fmt: skip


def _oracle(address: str) -> str | None:
    try:
        v = validate_email(address, check_deliverability=False, allow_smtputf8=True, strict=True)
    except EmailNotValidError:
        return None
    return f"{v.local_part}@{v.domain}".lower()


def test_email_agrees_with_email_validator() -> None:
    disagreements = []
    for local, domain in itertools.product(LOCALS, DOMAINS):
        address = f"{local}@{domain}"
        ours, theirs = email.parse(address), _oracle(address)
        if ours != theirs:
            disagreements.append((address, ours, theirs))
    # On purpose: no top-level domain has one letter (email-validator takes `a.s`).
    assert {a for a, ours, theirs in disagreements if ours is None and a.endswith("@a.s")} == {
        a for a, _, _ in disagreements
    }
    assert len(disagreements) < len(LOCALS)
    assert len(disagreements) + 100 < len(LOCALS) * len(DOMAINS)


def _cards(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        length = rng.randint(13, 19)
        prefix = rng.choice(["4", "51", "2221", "34", "6011", "3528", "2200", "2204", "1",
                             "9792", "81", "82", "62", "7", "99", "2205", "83"])  # fmt: skip
        body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
        out.append(body)
    return out


def test_card_numbers_we_take_pass_stdnum_luhn_and_every_scheme_is_reachable() -> None:
    rng = random.Random(14)
    accepted = set()
    for number in _cards(rng, 50_000):
        if card.parse(number) is not None:
            assert stdnum_luhn.is_valid(number), number
            accepted.add(next(p for p in ("2200", "2204", "9792", "81", "82", "1", "") if
                              number.startswith(p)))  # fmt: skip
        elif stdnum_luhn.is_valid(number):
            # Luhn-valid but not ours: a prefix or a length no scheme issues.
            assert not card._iin_ok(number) or len(set(number)) == 1, number
    assert {"2200", "2204", "9792", "81", "82", "1"} <= accepted


def _iban_with_check(rng: random.Random, country: str, length: int) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    return country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban


def test_iban_agrees_with_stdnum_except_check_digits_00_01_99() -> None:
    rng = random.Random(7)
    lengths = {"SE": 24, "DE": 22, "NO": 15, "FI": 18, "DK": 18, "GB": 22}
    outside = agreed = 0
    for _ in range(3000):
        country = rng.choice(sorted(lengths))
        value = _iban_with_check(rng, country, lengths[country])
        assert (iban.parse(value) is not None) == stdnum_iban.is_valid(value), value
        agreed += iban.parse(value) is not None
        # 00, 01 and 99 are congruent to 97, 98 and 02 mod 97: stdnum takes them, we do not.
        twin = {"97": "00", "98": "01", "02": "99"}.get(value[2:4])
        if twin is not None:
            v = value[:2] + twin + value[4:]
            assert stdnum_iban.is_valid(v) == stdnum_iban.is_valid(value), v
            assert iban.parse(v) is None, v
            outside += 1
    assert agreed > 1000
    assert outside > 20
