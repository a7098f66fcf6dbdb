"""Deterministic synthetic personal data for planting in test drives, demos and benchmarks.

Every value is valid by the rules the detectors check (dates, Luhn, mod 97, libphonenumber), so a
planted value is a value the detectors must find. The same seed gives the same values:

    >>> from scanners.synthetic import Synthetic
    >>> s = Synthetic(seed=7)
    >>> s.personnummer()                # "YYMMDD-NNNC"
    >>> s.personnummer(form="YYYYMMDDNNNC")
    >>> s.person()                      # a Person with name, personnummer, email, phone, address

None of these numbers belongs to a real person by intent, but a random valid personnummer may
exist: use them only in test data, never in anything sent out.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from scanners.identifiers.luhn import luhn_check_digit
from scanners.names import FIRST_NAMES, SURNAMES

PNR_FORMS = ("YYMMDD-NNNC", "YYMMDD+NNNC", "YYMMDDNNNC", "YYYYMMDD-NNNC", "YYYYMMDDNNNC")
ORGNR_FORMS = ("NNNNNN-NNNC", "NNNNNNNNNC", "16NNNNNNNNNC", "SENNNNNNNNNN01")
_STREET_STEMS = ("Stor", "Kyrko", "Drottning", "Kungs", "Skol", "Järnvägs", "Å", "Sjö",
                 "Björk", "Ek", "Lind", "Vasa", "Prästgårds", "Strand", "Kyrk",
                 "Mölndals", "Åsa", "Örebro", "Tall", "Bäck")  # fmt: skip
_STREET_ENDS = ("gatan", "vägen", "gränd", "torget", "backen", "stigen", "allén", "plan")
_CITIES = ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping",
           "Helsingborg", "Jönköping", "Norrköping", "Lund", "Umeå", "Gävle", "Borås",
           "Södertälje", "Eskilstuna", "Halmstad", "Växjö", "Karlstad", "Sundsvall", "Luleå",
           "Östersund", "Trollhättan", "Kalmar", "Falun", "Skövde", "Kiruna", "Visby")  # fmt: skip
_DOMAINS = ("example.se", "exempel.se", "företag.example", "mail.example.com", "test.example.org")
_ASCII = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuAAOEU")
# (country, BBAN length, BBAN has a 4-letter bank code)
_IBAN_COUNTRIES = {"SE": (20, False), "DE": (18, False), "DK": (14, False),
                   "GB": (18, True), "NL": (14, True)}  # fmt: skip
_MOBILE = ("70", "72", "73", "76", "79")
_AREAS = (("8", 7), ("31", 7), ("40", 6), ("18", 6), ("90", 6), ("13", 6), ("60", 6))


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic customer record."""

    first_name: str
    surname: str
    personnummer: str
    email: str
    phone: str
    address: str

    @property
    def name(self) -> str:
        """First name and surname."""
        return f"{self.first_name} {self.surname}"


class Synthetic:
    """A deterministic source of valid Swedish personal data; one seed, one sequence.

    Args:
        seed: the same seed gives the same values, in the same order of calls.
        today: the date 10-digit personnummer are written against (default: today).
    """

    def __init__(self, seed: int = 0, *, today: dt.date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or dt.date.today()

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def birth_date(self, *, min_age: int = 0, max_age: int = 95) -> dt.date:
        """A date of birth between `min_age` and `max_age` years before today."""
        days = self.rng.randint(min_age * 366, max_age * 365)
        return self.today - dt.timedelta(days=days + 1)

    def personnummer(self, form: str = "YYMMDD-NNNC", *, coordination: bool = False) -> str:
        """A valid personnummer (or samordningsnummer) in one of `PNR_FORMS`.

        The `+` form gets a person aged 100 or more, as the rules require.
        """
        if form not in PNR_FORMS:
            raise ValueError(f"unknown personnummer form {form!r}; one of {PNR_FORMS}")
        born = self.birth_date(min_age=100, max_age=110) if "+" in form else self.birth_date()
        day = born.day + (60 if coordination else 0)
        serial = f"{self.rng.randint(1, 999):03d}"
        nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
        check = luhn_check_digit(nine)
        cent = f"{born.year // 100}"
        return (
            form.replace("YYYY", cent + "YY")
            .replace("YY", nine[:2])
            .replace("MM", nine[2:4])
            .replace("DD", nine[4:6])
            .replace("NNN", serial)
            .replace("C", check)
        )

    def samordningsnummer(self, form: str = "YYMMDD-NNNC") -> str:
        """A valid samordningsnummer (day + 60) in one of `PNR_FORMS`."""
        return self.personnummer(form, coordination=True)

    def organisationsnummer(self, form: str = "NNNNNN-NNNC") -> str:
        """A valid organisationsnummer in one of `ORGNR_FORMS` (aktiebolag, 556xxx, mostly)."""
        if form not in ORGNR_FORMS:
            raise ValueError(f"unknown organisationsnummer form {form!r}; one of {ORGNR_FORMS}")
        group = self.rng.choice("5555556789")
        head = group + self._digits(1) + str(self.rng.randint(2, 9)) + self._digits(6)
        digits = head + luhn_check_digit(head)
        return {
            "NNNNNN-NNNC": f"{digits[:6]}-{digits[6:]}",
            "NNNNNNNNNC": digits,
            "16NNNNNNNNNC": "16" + digits,
            "SENNNNNNNNNN01": f"SE{digits}01",
        }[form]

    def iban(self, country: str = "SE", *, grouped: bool = True) -> str:
        """A valid IBAN of `country`, grouped by four or compact.

        Only SE, DE, DK, GB and NL: countries whose IBAN holds a national check digit (NO, FI)
        would need it computed too.
        """
        length, letters = _IBAN_COUNTRIES[country]
        if letters:
            bank = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
            bban = bank + self._digits(length - 4)
        else:
            bban = self.rng.choice(("500", "600", "800", "300", "123")) + self._digits(length - 3)
        numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
        check = 98 - int(numeric) % 97
        compact = f"{country}{check:02d}{bban}"
        if not grouped:
            return compact
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))

    def card(self, scheme: str = "visa", *, grouped: bool = True) -> str:
        """A Luhn-valid card number of `scheme` (visa, mastercard, amex)."""
        prefix, length = {
            "visa": ("4", 16),
            "mastercard": (str(self.rng.randint(51, 55)), 16),
            "amex": (self.rng.choice(("34", "37")), 15),
        }[scheme]
        body = prefix + self._digits(length - len(prefix) - 1)
        digits = body + luhn_check_digit(body)
        if not grouped:
            return digits
        if length == 15:
            return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
        return " ".join(digits[i : i + 4] for i in range(0, 16, 4))

    def bankgiro(self) -> str:
        """A valid bankgiro number `NNN-NNNN` or `NNNN-NNNN`."""
        body = str(self.rng.randint(1, 9)) + self._digits(self.rng.choice((5, 6)))
        digits = body + luhn_check_digit(body)
        return f"{digits[:-4]}-{digits[-4:]}"

    def plusgiro(self) -> str:
        """A valid plusgiro number written `NN NN NN-C` (or shorter)."""
        body = str(self.rng.randint(1, 9)) + self._digits(self.rng.choice((3, 5)))
        check = luhn_check_digit(body)
        groups = [body[max(0, i - 2) : i] for i in range(len(body), 0, -2)][::-1]
        return " ".join(groups) + "-" + check

    def phone(self, *, mobile: bool = True, international: bool = False) -> str:
        """A valid Swedish phone number, as Swedes write it (`070-123 45 67`, `+46 8 ...`)."""
        if mobile:
            area, rest = self.rng.choice(_MOBILE), self._digits(7)
            national = f"{area}-{rest[:3]} {rest[3:5]} {rest[5:]}"
        else:
            area, n = self.rng.choice(_AREAS)
            rest = str(self.rng.randint(2, 9)) + self._digits(n - 1)
            national = f"{area}-{rest[:-4]} {rest[-4:-2]} {rest[-2:]}"
        if international:
            return "+46 " + national.replace("-", " ")
        return "0" + national

    def first_name(self) -> str:
        """A Swedish first name from the lexicon."""
        return self.rng.choice(FIRST_NAMES)

    def surname(self) -> str:
        """A Swedish surname from the lexicon."""
        return self.rng.choice(SURNAMES)

    def name(self) -> str:
        """First name and surname."""
        return f"{self.first_name()} {self.surname()}"

    def email(self, name: str | None = None) -> str:
        """An address `first.last@domain` (ASCII-folded), from `name` or a new name."""
        local = (name or self.name()).lower().translate(_ASCII).replace(" ", ".")
        local = "".join(ch for ch in local if ch.isalnum() or ch in ".-")
        return f"{local}@{self.rng.choice(_DOMAINS).translate(_ASCII)}"

    def address(self) -> str:
        """A street address `Storgatan 12, 123 45 Stockholm`."""
        street = self.rng.choice(_STREET_STEMS) + self.rng.choice(_STREET_ENDS)
        postnr = f"{self.rng.randint(100, 999)} {self.rng.randint(0, 99):02d}"
        return f"{street} {self.rng.randint(1, 120)}, {postnr} {self.rng.choice(_CITIES)}"

    def ipv4(self) -> str:
        """A public-looking IPv4 address (never loopback, which no one owns)."""
        first = self.rng.choice([n for n in range(11, 224) if n != 127])
        return ".".join(str(x) for x in (first, *self.rng.choices(range(256), k=3)))

    def ipv6(self) -> str:
        """A compressed IPv6 address in the documentation range."""
        groups = [f"{self.rng.randint(1, 0xFFFF):x}" for _ in range(self.rng.randint(1, 4))]
        return "2001:db8::" + ":".join(groups)

    def person(self) -> Person:
        """A customer record whose fields all belong together."""
        first, last = self.first_name(), self.surname()
        return Person(
            first_name=first,
            surname=last,
            personnummer=self.personnummer(self.rng.choice(PNR_FORMS[:1] + PNR_FORMS[3:4])),
            email=self.email(f"{first} {last}"),
            phone=self.phone(mobile=self.rng.random() < 0.7),
            address=self.address(),
        )
