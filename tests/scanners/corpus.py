"""A labeled corpus: generated Swedish and English text, planted values and hard negatives.

`build(seed, items)` returns text made of sentences, each planting one value of a category in one
written form (labels know the category, form and span), mixed with hard negatives (wrong Luhn,
impossible dates, serial 000, dates, order and invoice numbers, EAN codes, versions, card-like
numbers failing Luhn) and filler. `score()` turns findings into per-category precision and recall.

Planted bare ten-digit personnummer always have a personnummer word near them: without one the
detectors leave them alone on purpose (the ambiguous ten-digit rule in `scanners.fastpath`).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from scanners.identifiers import luhn_check_digit, personnummer
from scanners.synthetic import ORGNR_FORMS, PNR_FORMS, Synthetic


@dataclass(frozen=True)
class Label:
    category: str
    form: str
    start: int  # character offsets in Corpus.text
    end: int


@dataclass
class Corpus:
    segments: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    negatives: Counter[str] = field(default_factory=Counter)
    _length: int = 0

    @property
    def text(self) -> str:
        return "".join(self.segments)

    def add(self, text: str, category: str | None = None, form: str = "") -> None:
        if category is not None:
            self.labels.append(Label(category, form, self._length, self._length + len(text)))
        self.segments.append(text)
        self._length += len(text)

    def byte_labels(self, encoding: str) -> list[Label]:
        """Labels with byte offsets in `self.text.encode(encoding)`."""
        offsets, pos = {}, 0
        for seg in self.segments:
            offsets[len(offsets)] = pos
            pos += len(seg.encode(encoding))
        char_to_byte, chars = {}, 0
        for i, seg in enumerate(self.segments):
            char_to_byte[chars] = offsets[i]
            chars += len(seg)
        char_to_byte[chars] = pos
        return [
            Label(lab.category, lab.form, char_to_byte[lab.start], char_to_byte[lab.end])
            for lab in self.labels
        ]


FILLER = (
    "Mötet hölls den {date} kl. 14:30 i konferensrummet. ",
    "Fakturan på {amount} kr förfaller om 30 dagar. ",
    "Vi har levererat {small} pallar till lagret. ",
    "Projektet följer plan och budget för kvartal {q}. ",
    "Kontakta supporten om du har frågor om din beställning. ",
    "The quarterly report is attached for your review. ",
    "Leveransen består av {small} enheter à {amount} kr. ",
    "Tack för ditt samtal i morse, vi återkommer snarast. ",
)

# (category, templates); {v} is the planted value, {name} a person name (also labeled).
POSITIVE = {
    "personnummer": ("Personnummer: {v}. ", "Kund {name}, pnr {v}, har flyttat. ",
                     "{name} ({v}) har anmält adressändring. ", "Personnr {v} finns i registret. ",
                     "Swedish personal identity number {v} was verified. ", "{name};{v};aktiv\n"),
    "samordningsnummer": ("Samordningsnummer: {v}. ", "{name} har samordningsnummer {v}. ",
                          "Pnr/samordningsnr {v} registrerat. "),
    "organisationsnummer": ("Org.nr {v}. ", "Leverantör AB, organisationsnummer {v}. ",
                            "Company registration number {v}. ", "Momsreg.nr {v}. "),
    "email": ("Mejla {v} för mer info. ", "E-post: {v}\n", "Kontakt: <{v}>. ", "Send it to {v}. "),
    "phone": ("Ring mig på {v}. ", "Tel: {v}\n", "Mobil {v}, vardagar. ", "Phone {v}. "),
    "iban": ("IBAN: {v}. ", "Betala till kontot {v} senast fredag. ", "Account (IBAN) {v}\n"),
    "payment_card": ("Kortnummer {v} giltigt till 12/27. ", "Card: {v}\n", "Betalt med {v}. "),
    "postal_address": ("Adress: {v}\n", "Skicka till {name}, {v}. ", "Leveransadress {v}.\n"),
    "bankgiro": ("Bankgiro {v}. ", "Betala till bankgironummer {v} före förfallodagen. "),
    "plusgiro": ("Plusgiro {v}. ", "Inbetalning till PG {v}. "),
    "ip_address": ("Inloggning från IP {v} kl 03:12. ", "Server address: {v}\n", "ip={v} "),
    "person_name": ("Kund: {v}\n", "Med vänliga hälsningar\n{v}\n", "{v} ringde igår om ärendet. ",
                    "Kontaktperson: {v}. ", "Mötet bokades av {v} i går. "),
}  # fmt: skip

BARE_TEN = {
    "personnummer": ("Personnummer: {v}. ", "Kund {name}, pnr {v}, har flyttat. ",
                     "Personnr {v} finns i registret. ", "{name}, personnummer {v}\n"),
    "samordningsnummer": ("Samordningsnummer: {v}. ", "{name} har samordningsnummer {v}. "),
    "organisationsnummer": ("Org.nr {v}. ", "Leverantör AB, organisationsnummer {v}. "),
}  # fmt: skip

NEGATIVE_TEMPLATES = (
    "Ordernr {v} skickades i dag. ", "Fakturanummer {v}. ", "Referens: {v}. ", "Artikel {v} ",
    "Invoice {v} is attached. ", "Datum {v}. ", "Summa: {v} kr. ", "Ärende {v} stängt. ",
    "Kod {v} ", "Serienummer {v}. ", "Version {v} installerad. ", "EAN {v} ", "{v} ",
)  # fmt: skip


def _bad_luhn(digits: str) -> str:
    good = luhn_check_digit(digits[:-1])
    return digits[:-1] + str((int(good) + 1 + int(digits[-1]) % 9) % 10)


def _hard_negative(s: Synthetic, rng: random.Random) -> tuple[str, str]:
    """(kind, text) of a value that must not be reported as a personnummer or card."""
    kind = rng.choice(("pnr_luhn", "pnr_date", "pnr_serial000", "date", "order", "invoice",
                       "card_luhn", "ean", "version", "amount", "digits10", "time"))  # fmt: skip
    if kind == "pnr_luhn":
        v = s.personnummer(rng.choice(PNR_FORMS[:1] + PNR_FORMS[3:]))
        return kind, v[:-1] + _bad_luhn(v.replace("-", "").replace("+", "")[-10:])[-1]
    if kind == "pnr_date":
        mm, dd = rng.choice(((13, 10), (0, 12), (2, 30), (2, 31), (4, 31), (6, 31), (9, 31),
                             (5, 32), (11, 0), (7, 92)))  # fmt: skip
        yy = rng.randint(0, 99)
        nine = f"{yy:02d}{mm:02d}{dd:02d}{rng.randint(1, 999):03d}"
        return kind, f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"
    if kind == "pnr_serial000":
        born = s.birth_date()
        nine = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}000"
        return kind, f"{nine[:6]}-000{luhn_check_digit(nine)}"
    if kind == "date":
        d = s.birth_date()
        return kind, rng.choice((d.isoformat(), d.strftime("%Y%m%d"), d.strftime("%d/%m/%Y")))
    if kind == "order":
        return kind, rng.choice((f"ORD-{rng.randint(2015, 2025)}-{rng.randint(0, 999999):06d}",
                                 f"{rng.randint(10**5, 10**6 - 1)}-{rng.randint(0, 99):02d}",
                                 f"{rng.randint(10**7, 10**8 - 1)}"))  # fmt: skip
    if kind == "invoice":
        return kind, f"{rng.randint(2015, 2025)}{rng.randint(0, 99999999):08d}"[:12]
    if kind == "card_luhn":
        good = s.card(rng.choice(("visa", "mastercard")), grouped=False)
        bad = _bad_luhn(good)
        return kind, " ".join(bad[i : i + 4] for i in range(0, 16, 4))
    if kind == "ean":
        return kind, "73" + "".join(rng.choice("0123456789") for _ in range(11))
    if kind == "version":
        return kind, ".".join(str(rng.randint(0, 20)) for _ in range(rng.choice((3, 5))))
    if kind == "amount":
        return kind, f"{rng.randint(1, 999)} {rng.randint(0, 999):03d},{rng.randint(0, 99):02d}"
    if kind == "digits10":
        # Ten digits that are no valid personnummer, written without context.
        while True:
            v = f"{rng.randint(10**9, 10**10 - 1)}"
            if personnummer.parse(v) is None:
                return kind, v
    return kind, f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _value(s: Synthetic, rng: random.Random, category: str) -> tuple[str, str]:
    """(form, value) of one planted value."""
    if category in ("personnummer", "samordningsnummer"):
        form = rng.choice(PNR_FORMS)
        return form, s.personnummer(form, coordination=category == "samordningsnummer")
    if category == "organisationsnummer":
        form = rng.choice(ORGNR_FORMS)
        return form, s.organisationsnummer(form)
    if category == "email":
        return "email", s.email()
    if category == "phone":
        mobile, intl = rng.random() < 0.6, rng.random() < 0.3
        return f"{'mobile' if mobile else 'fixed'}{'+46' if intl else ''}", s.phone(
            mobile=mobile, international=intl
        )
    if category == "iban":
        country = rng.choice(("SE", "SE", "SE", "DE", "DK", "GB", "NL"))
        grouped = rng.random() < 0.6
        return f"{country}{' grouped' if grouped else ''}", s.iban(country, grouped=grouped)
    if category == "payment_card":
        scheme, grouped = rng.choice(("visa", "mastercard", "amex")), rng.random() < 0.6
        return f"{scheme}{' grouped' if grouped else ''}", s.card(scheme, grouped=grouped)
    if category == "postal_address":
        return "address", s.address()
    if category == "bankgiro":
        return "bankgiro", s.bankgiro()
    if category == "plusgiro":
        return "plusgiro", s.plusgiro()
    if category == "ip_address":
        return ("ipv4", s.ipv4()) if rng.random() < 0.7 else ("ipv6", s.ipv6())
    if rng.random() < 0.2:
        return "unlisted", f"{rng.choice(UNLISTED_FIRST)} {rng.choice(UNLISTED_SURNAMES)}"
    return "name", s.name()


# Real but rarer Swedish names that are in neither lexicon (checked in test_corpus.py): they show
# what the rules find without the lexicons' help.
UNLISTED_FIRST = ("Gudmund", "Ragnvald", "Helny", "Botilda", "Arvida", "Edla", "Tekla",
                  "Ingvald", "Alfhild", "Bengta", "Nils-Erik")  # fmt: skip
UNLISTED_SURNAMES = ("Wachtmeister", "Ståhlberg", "Rydqvist", "Tegnér", "Wennerholm", "Lagerlöf",
                     "Sandelin", "Edgren", "Swartling", "Grip", "Rosenblad", "Lilliehöök",
                     "Ankarcrona", "Dufva", "Tornberg", "Adlercreutz")  # fmt: skip

WEIGHTS = {"personnummer": 6, "samordningsnummer": 2, "organisationsnummer": 2, "email": 2,
           "phone": 2, "iban": 1, "payment_card": 1, "postal_address": 1, "bankgiro": 1,
           "plusgiro": 1, "ip_address": 1, "person_name": 2}  # fmt: skip


def build(seed: int = 0, items: int = 10_000, negatives: float = 0.5) -> Corpus:
    """A corpus of `items` planted values and about `negatives` * items hard negatives."""
    rng = random.Random(seed)
    s = Synthetic(seed)
    corpus = Corpus()
    cats, weights = zip(*WEIGHTS.items(), strict=True)
    planted = 0
    while planted < items:
        if rng.random() < 0.3:
            corpus.add(_filler(rng))
        if rng.random() < negatives / (1 + negatives):
            kind, v = _hard_negative(s, rng)
            head, tail = rng.choice(NEGATIVE_TEMPLATES).split("{v}")
            corpus.add(head)
            corpus.add(v)
            corpus.negatives[kind] += 1
            corpus.add(tail)
            continue
        category = rng.choices(cats, weights)[0]
        form, v = _value(s, rng, category)
        templates = POSITIVE[category]
        if form in ("YYMMDDNNNC", "NNNNNNNNNC"):  # bare ten digits: only with a keyword near
            templates = BARE_TEN[category]
        template = rng.choice(templates)
        for i, part in enumerate(template.replace("{name}", "\0name\0").split("{v}")):
            if i:
                corpus.add(v, category, form)
                planted += 1
            for j, piece in enumerate(part.split("\0")):
                if j % 2 and piece == "name":
                    corpus.add(s.name(), "person_name", "name")
                    planted += 1
                else:
                    corpus.add(piece)
    return corpus


def _filler(rng: random.Random) -> str:
    return rng.choice(FILLER).format(
        date=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        amount=f"{rng.randint(1, 99)} {rng.randint(0, 999):03d}",
        small=rng.randint(2, 60),
        q=rng.randint(1, 4),
    )


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(labels: list[Label], findings: list) -> tuple[dict[str, Score], dict[str, Score]]:
    """Per-category and per-(category, form) scores; a finding hits a label of its category
    whose span it overlaps."""
    by_cat: dict[str, Score] = {}
    by_form: dict[str, Score] = {}
    spans: dict[str, list[Label]] = {}
    for lab in labels:
        spans.setdefault(lab.category, []).append(lab)
    hit: set[Label] = set()
    for f in findings:
        cands = spans.get(f.category, [])
        match = _overlapping(cands, f.offset, f.offset + f.length)
        sc = by_cat.setdefault(f.category, Score())
        if match is None:
            sc.fp += 1
        else:
            sc.tp += match not in hit
            hit.add(match)
    for lab in labels:
        by_cat.setdefault(lab.category, Score())
        form = by_form.setdefault(f"{lab.category} {lab.form}", Score())
        if lab in hit:
            form.tp += 1
        else:
            by_cat[lab.category].fn += 1
            form.fn += 1
    return by_cat, by_form


def _overlapping(labels: list[Label], start: int, end: int) -> Label | None:
    lo, hi = 0, len(labels)
    while lo < hi:  # labels are in text order: find the first that ends after `start`
        mid = (lo + hi) // 2
        if labels[mid].end <= start:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(labels) and labels[lo].start < end:
        return labels[lo]
    return None
