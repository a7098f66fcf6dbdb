/* Whole candidate confirmations of the raw fast path in C, for the kinds that make nearly all
 * of a drive's values: personnummer and organisationsnummer forms, e-mail and IPv4 addresses,
 * Swedish phone numbers without country code, payment cards, IBANs, bankgiro numbers and bare
 * ten-digit numbers, in 8-bit text; and the order of a page's candidates.
 *
 * confirm_pnr(setup, buffer, start, origin), confirm_email, confirm_ipv4, confirm_phone,
 * confirm_card, confirm_iban, confirm_bankgiro and confirm_dig10 give what
 * scanners.candidate.Plan.confirm gives for the same candidate: None, or (category, confidence,
 * normalized value, begin, end) with byte offsets into the buffer. They re-match the kind's
 * core at `start` (scanners.patterns; the regular expression's backtracking is reproduced),
 * check the byte before it, and apply the kind's rule (scanners.rules: pnr_form with its
 * organisationsnummer readings, email_address, ipv4_address, phone_number, card_number,
 * iban_number, bankgiro_number, dig10) to the buffer read as Latin-1, with the same windows,
 * context words (scanners.context) and text check. Where the rule would need more than that,
 * they hand the candidate to `fallback` (the Python Plan.confirm_py) and return its answer:
 * - an e-mail candidate with a byte 0x80-0xFF in its local part or domain, or `--` in its
 *   domain (UTF-8 local parts, IDN and punycode domains);
 * - a rejected candidate whose left window reaches back over a sector boundary (the rule is
 *   then tried again on the file's side of it), unless the rule rejected on the core alone
 *   (REJECT_FINAL: a card's digits, an IBAN's characters, the digits of a personnummer or
 *   organisationsnummer form where no reference word vetoed it, a bankgiro number's Luhn digit,
 *   ten digits that are neither a personnummer nor an organisationsnummer).
 * `setup` is made once per kind by confirm_setup(lead, words, reference words, confidences,
 * fallback, check[, more words[, table]]): a 256-byte table of the bytes that may not stand
 * before a value, the kind's and the reference words as scanners.context keyword tables, the
 * rule's confidences (each base followed by its boosted value), the Python confirmation, the
 * kind's Python check (phone numbers: the libphonenumber patterns' match of national digits,
 * identifiers.phone.national_number_match, asked only where there is no table; IBANs: the
 * national check of the four countries that have one, identifiers.iban.national_ok), a second category of words (the organisationsnummer
 * words of personnummer forms and bare ten digits), and the kind's table (cards: the lengths
 * each issuer prefix allows, identifiers.card.length_masks; phone numbers: the automaton of
 * the national number patterns, identifiers.phone.national_table; IBANs: each country's BBAN
 * structure, identifiers.iban.structure_table).
 * The windows below are scanners.rules' and scanners.context's; CONFIRM_WINDOWS names them so
 * that scanners.candidate uses this code only while both agree. tests/scanners/test_confirm.py
 * compares both sides on fuzzed buffers. */
#include "_hot.h"

#include <stdint.h>
#include <time.h>


typedef struct {
    PyObject *lead, *words, *negative_words, *more_words; /* bytes: the tables */
    double conf[12];
    PyObject *fallback;
    PyObject *check; /* the kind's Python check (phone: the national number patterns) */
    PyObject *table; /* bytes: the kind's data (card: IIN lengths; phone: an automaton; IBAN:
                      * BBAN structures) */
} setup_t;

enum {
    PERSONNUMMER, SAMORDNINGSNUMMER, EMAIL, IP_ADDRESS, PHONE, PAYMENT_CARD, IBAN,
    ORGANISATIONSNUMMER, BANKGIRO, CATEGORIES
};

/* Today as YYYYMMDD in local time, read from the clock at most once a minute (as
 * personnummer._today). */
static long today_now(void) {
    static time_t next;
    static long today;
    time_t now = time(NULL);
    if (now >= next) {
        struct tm tm;
        localtime_r(&now, &tm);
        today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
        next = now + 60;
    }
    return today;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_letter(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static inline int is_alnum(unsigned char c) { return is_digit(c) || is_letter(c); }

static int digits(const unsigned char *p, Py_ssize_t n, Py_ssize_t at, int count) {
    if (at + count > n) return 0;
    for (int i = 0; i < count; i++)
        if (!is_digit(p[at + i])) return 0;
    return 1;
}

/* ---- the rule's answer ------------------------------------------------------------------- */

static PyObject *category_names[CATEGORIES];

/* The interned name of a category (borrowed): every finding of a category shares one str. */
PyObject *hot_category_name(int category) {
    static const char *known[CATEGORIES] = {"personnummer", "samordningsnummer", "email",
                                            "ip_address", "phone", "payment_card", "iban",
                                            "organisationsnummer", "bankgiro"};
    if (category < 0 || category >= CATEGORIES) {
        PyErr_SetString(PyExc_ValueError, "no such category");
        return NULL;
    }
    if (category_names[category] == NULL)
        category_names[category] = PyUnicode_InternFromString(known[category]);
    return category_names[category];
}

/* The judgement's value, copied into `out`: ACCEPT, or -1 where it does not fit. */
static int hit(hit_t *out, int category, double confidence, const char *normalized,
               Py_ssize_t length, Py_ssize_t begin, Py_ssize_t end) {
    if (length < 0 || length > (Py_ssize_t)sizeof out->normalized) {
        PyErr_SetString(PyExc_ValueError, "a normalized value longer than the C rules make");
        return -1;
    }
    out->category = category;
    out->confidence = confidence;
    memcpy(out->normalized, normalized, (size_t)length);
    out->length = length;
    out->begin = begin;
    out->end = end;
    return 1; /* ACCEPT */
}

/* The Python rules' answer for a hit: (category, confidence, normalized, begin, end). */
static PyObject *hit_tuple(const hit_t *h) {
    PyObject *name = hot_category_name(h->category);
    if (name == NULL) return NULL;
    return Py_BuildValue("(Ods#nn)", name, h->confidence, h->normalized, h->length, h->begin,
                         h->end);
}

/* Results of a judgement before it becomes a Python object. REJECT_FINAL: a rejection that
 * the core alone decides, so that the Python rule's second try from a sector boundary (which
 * only cuts the left window) would reject too. */
enum { REJECT = 0, ACCEPT = 1, UNDECIDED = 2, REJECT_FINAL = 3 };

/* ---- the text check (scanners.context.textual) ------------------------------------------ */

static int all_ascii(const unsigned char *w, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (w[i] >= 0x80) return 0;
    return 1;
}

static int text_side(const unsigned char *w, Py_ssize_t n, int edge) {
    if (all_ascii(w, n)) return 1;
    Py_ssize_t runs, letters;
    hot_high_letters(w, n, &runs, &letters);
    if (!runs) return 1;
    Py_ssize_t high = runs - letters;
    return high * 8 <= n && !(edge >= 0x7F && high != 0);
}

static int printable_run(const unsigned char *w, Py_ssize_t n) { /* _ADJACENT on n == 8 */
    if (n < ADJACENT) return 0;
    for (Py_ssize_t i = 0; i < ADJACENT; i++)
        if (!(w[i] == '\t' || w[i] == '\n' || w[i] == '\r' || (w[i] >= 0x20 && w[i] <= 0x7E)))
            return 0;
    return 1;
}

static int plain_text(const unsigned char *w, Py_ssize_t n) {
    if (n < PLAIN_RUN) return 0;
    Py_ssize_t high = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = w[i];
        if (c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F) || c == 0x7F) return 0;
        high += c >= 0x80;
    }
    if (!high) return 1;
    Py_ssize_t runs, letters;
    hot_high_letters(w, n, &runs, &letters);
    return high == letters;
}

static int textual(const unsigned char *before, Py_ssize_t bn, const unsigned char *after,
                   Py_ssize_t an) {
    const unsigned char *b = bn > TEXT_WINDOW ? before + bn - TEXT_WINDOW : before;
    Py_ssize_t blen = bn > TEXT_WINDOW ? TEXT_WINDOW : bn;
    Py_ssize_t alen = an > TEXT_WINDOW ? TEXT_WINDOW : an;
    int before_ok = text_side(b, blen, blen ? b[blen - 1] : -1) ||
                    (blen >= ADJACENT && printable_run(b + blen - ADJACENT, ADJACENT));
    if (before_ok && (text_side(after, alen, alen ? after[0] : -1) || printable_run(after, alen)))
        return 1;
    Py_ssize_t plain_b = blen > PLAIN_RUN ? PLAIN_RUN : blen;
    return plain_text(b + blen - plain_b, plain_b) ||
           plain_text(after, alen > PLAIN_RUN ? PLAIN_RUN : alen);
}

/* textual(before, after) on two bytes-like windows: scanners.context.textual on their Latin-1
 * reading (for the tests). */
PyObject *hot_textual(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "textual(before, after)");
        return NULL;
    }
    Py_buffer b, a;
    if (PyObject_GetBuffer(args[0], &b, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(args[1], &a, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    int ok = textual(b.buf, b.len, a.buf, a.len);
    PyBuffer_Release(&b);
    PyBuffer_Release(&a);
    return PyBool_FromLong(ok);
}

/* ---- set-up and the common frame --------------------------------------------------------- */

static const char SETUP[] = "scanners._hot.confirm_setup";

static void setup_clear(setup_t *s) {
    Py_XDECREF(s->lead);
    Py_XDECREF(s->words);
    Py_XDECREF(s->negative_words);
    Py_XDECREF(s->more_words);
    Py_XDECREF(s->fallback);
    Py_XDECREF(s->check);
    Py_XDECREF(s->table);
    PyMem_Free(s);
}

static void setup_free(PyObject *capsule) {
    setup_t *s = PyCapsule_GetPointer(capsule, SETUP);
    if (s != NULL) setup_clear(s);
}

/* confirm_setup(lead, words, reference words, confidences, fallback, check[, more words[,
 * table]]) -> the set-up the confirm functions take: checked and unpacked once, not per
 * candidate. */
PyObject *hot_confirm_setup(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 6 || nargs > 8 || !PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != 256 ||
        !PyBytes_Check(args[1]) || !PyBytes_Check(args[2]) || !PyTuple_Check(args[3]) ||
        PyTuple_GET_SIZE(args[3]) > 12 || !PyCallable_Check(args[4]) ||
        !PyCallable_Check(args[5]) || (nargs > 6 && !PyBytes_Check(args[6])) ||
        (nargs > 7 && !PyBytes_Check(args[7]))) {
        PyErr_SetString(PyExc_TypeError,
                        "confirm_setup(lead: 256 bytes, words: bytes, reference words: bytes, "
                        "confidences: up to twelve floats, fallback, check[, more words: bytes[, "
                        "table: bytes]])");
        return NULL;
    }
    setup_t *s = PyMem_Calloc(1, sizeof *s);
    if (s == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args[3]); i++) {
        s->conf[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(args[3], i));
        if (s->conf[i] == -1.0 && PyErr_Occurred()) {
            PyMem_Free(s);
            return NULL;
        }
    }
    s->lead = Py_NewRef(args[0]);
    s->words = Py_NewRef(args[1]);
    s->negative_words = Py_NewRef(args[2]);
    s->fallback = Py_NewRef(args[4]);
    s->check = Py_NewRef(args[5]);
    s->more_words = nargs > 6 ? Py_NewRef(args[6]) : PyBytes_FromStringAndSize(NULL, 0);
    s->table = nargs > 7 ? Py_NewRef(args[7]) : PyBytes_FromStringAndSize(NULL, 0);
    if (s->more_words == NULL || s->table == NULL) {
        setup_clear(s);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(s, SETUP, setup_free);
    if (capsule == NULL) setup_clear(s);
    return capsule;
}

/* The candidate a judgement is about, and its rule windows: p[lo:start] before it (RULE_BEFORE
 * bytes, fewer at the buffer's start), `an` bytes after its core (RULE_AFTER, fewer at the end). */
typedef struct {
    const unsigned char *p;
    Py_ssize_t n, start, end, lo, an;
} candidate_t;

typedef int (*judge_fn)(const setup_t *, const candidate_t *, hit_t *);
/* The end of the kind's core at `start`, -1 for no match, -2 for one the C rules do not read. */
typedef Py_ssize_t (*core_fn)(const unsigned char *, Py_ssize_t, Py_ssize_t);

/* candidate._is_text for bytes before a value: 1 for printable ASCII, tabs and line ends (or
 * nothing), 0 for other ASCII, -1 for bytes past ASCII (UTF-8 to decode: Python's to say). */
static int ascii_text(const unsigned char *p, Py_ssize_t n) {
    int text = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p[i] >= 0x80) return -1;
        text = text && ((p[i] >= 0x20 && p[i] < 0x7F) || p[i] == '\t' || p[i] == '\n' ||
                        p[i] == '\r');
    }
    return text;
}

/* The verdict on the candidate at `start` of p[0:n]: ACCEPT with `out` set, REJECT, UNDECIDED
 * (the set-up's fallback decides), or -1 with an error set. With an `origin` (the device offset
 * of p[0]), a rejection near a sector boundary is judged again with the left context cut at the
 * boundary when text lies between them (candidate.Plan.confirm_py: a file's data begins at a
 * sector boundary); text past ASCII is UNDECIDED, for the Python rule to decode. A mail log's
 * bare queue ids sent 6,700 rejected phone numbers through libphonenumber (50 us each) so. */
static int judged(const setup_t *s, core_fn core, judge_fn judge, const unsigned char *p,
                  Py_ssize_t n, Py_ssize_t start, int has_origin, Py_ssize_t origin,
                  hit_t *out) {
    candidate_t c = {p, n, start, -1, 0, 0};
    if (start < 0 || start >= n) return REJECT;
    if ((c.end = core(p, n, start)) == -2) return UNDECIDED;
    if (c.end < 0 || (start >= 1 && PyBytes_AS_STRING(s->lead)[p[start - 1]])) return REJECT;
    c.lo = start > RULE_BEFORE ? start - RULE_BEFORE : 0;
    c.an = n - c.end < RULE_AFTER ? n - c.end : RULE_AFTER;
    int verdict = judge(s, &c, out);
    if (verdict == REJECT_FINAL) return REJECT;
    if (verdict == REJECT && has_origin) {
        Py_ssize_t into = (Py_ssize_t)(((origin + start) % SECTOR + SECTOR) % SECTOR);
        if (into <= start && into < RULE_BEFORE) {
            int text = ascii_text(p + start - into, into);
            if (text <= 0) return text < 0 ? UNDECIDED : REJECT;
            c.lo = start - into; /* above start - RULE_BEFORE: into is less */
            verdict = judge(s, &c, out);
            if (verdict == REJECT_FINAL) return REJECT;
        }
    }
    return verdict;
}

static PyObject *confirm(PyObject *const *args, Py_ssize_t nargs, core_fn core, judge_fn judge) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "confirm(setup, buffer, start, origin)");
        return NULL;
    }
    const setup_t *s = PyCapsule_GetPointer(args[0], SETUP);
    if (s == NULL) return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[2]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t origin = 0;
    if (args[3] != Py_None && (origin = PyLong_AsSsize_t(args[3])) == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) return NULL;
    hit_t found;
    int verdict = judged(s, core, judge, view.buf, view.len, start, args[3] != Py_None, origin,
                         &found);
    PyBuffer_Release(&view);
    if (verdict == ACCEPT) return hit_tuple(&found);
    if (verdict == UNDECIDED) return PyObject_Vectorcall(s->fallback, args + 1, 3, NULL);
    if (verdict == REJECT) return Py_NewRef(Py_None);
    return NULL;
}

/* ---- personnummer forms (rules.pnr_form) ------------------------------------------------- */

static Py_ssize_t pnr_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* (?:(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}|[0-9]{12}) and no letter or digit after */
#define SEP(i) (s + (i) < n && (p[s + (i)] == '-' || p[s + (i)] == '+'))
#define TAIL(i) (s + (i) == n || !is_alnum(p[s + (i)]))
    if (digits(p, n, s, 8) && SEP(8) && digits(p, n, s + 9, 4) && TAIL(13)) return s + 13;
    if (digits(p, n, s, 6) && SEP(6) && digits(p, n, s + 7, 4) && TAIL(11)) return s + 11;
    if (digits(p, n, s, 12) && TAIL(12)) return s + 12;
#undef SEP
#undef TAIL
    return -1;
}

/* context.near(category, before, after) for a keyword table of the set-up. */
static int near_words(PyObject *table, const candidate_t *c) {
    Py_ssize_t bn = c->start - c->lo;
    Py_ssize_t near_b = bn < BEFORE ? bn : BEFORE, near_a = c->an < AFTER ? c->an : AFTER;
    const unsigned char *words = (const unsigned char *)PyBytes_AS_STRING(table);
    Py_ssize_t len = PyBytes_GET_SIZE(table);
    return hot_keywords(words, len, c->p + c->start - near_b, near_b, 0) == 1 ||
           (c->an && hot_keywords(words, len, c->p + c->end, near_a, 1) == 1);
}

/* ... for the kind's own words. */
static int near(const setup_t *s, const candidate_t *c) { return near_words(s->words, c); }

/* context.vetoed(before): a reference word in the last clause right before the value. */
static int vetoed(const setup_t *s, const candidate_t *c) {
    Py_ssize_t bn = c->start - c->lo, veto = bn < NEGATIVE ? bn : NEGATIVE;
    return hot_keywords((const unsigned char *)PyBytes_AS_STRING(s->negative_words),
                        PyBytes_GET_SIZE(s->negative_words), c->p + c->start - veto, veto,
                        -1) == 1;
}

/* rules._pnr: ACCEPT with *out set, or REJECT (REJECT_FINAL when the digits decide, not a
 * reference word). */
static int pnr_rule(const setup_t *s, const candidate_t *c, int base, int weak, hit_t *out) {
    const unsigned char *p = c->p;
    Py_ssize_t len = c->end - c->start;
    long year;
    int month_day;
    char body[10];
    if (!hot_pnr_fields((const char *)p + c->start, len, today_now(), &year, &month_day, body))
        return REJECT_FINAL;
    int has_word = near(s, c);
    if (weak && !has_word && vetoed(s, c)) return REJECT;
    char normalized[13];
    /* The year (1800-2099: hot_pnr_fields) in four digits by hand: snprintf("%04ld") was 7 %
     * of a personnummer column's scan. */
    long y = year;
    for (int i = 3; i >= 0; i--, y /= 10) normalized[i] = (char)('0' + y % 10);
    memcpy(normalized + 4, body + 2, 8);
    int coordination = body[4] > '6' || (body[4] == '6' && body[5] > '0');
    return hit(out, coordination ? SAMORDNINGSNUMMER : PERSONNUMMER, s->conf[base + has_word],
               normalized, 12, c->start, c->end);
}

/* rules._org on the ten digits of an organisationsnummer (identifiers.orgnr.parse: a legal
 * form 1-3 or 5-9, a third digit of 2 or more, Luhn) and the organisationsnummer words (the
 * set-up's second table): ACCEPT with *out set, or REJECT_FINAL. */
static int org_rule(const setup_t *s, const candidate_t *c, const char ten[10], int base,
                    hit_t *out) {
    if (ten[0] == '0' || ten[0] == '4' || ten[2] < '2' || !hot_luhn(ten, 10)) return REJECT_FINAL;
    return hit(out, ORGANISATIONSNUMMER, s->conf[base + near_words(s->more_words, c)], ten, 10,
               c->start, c->end);
}

/* `person`, or else `org` (computed only when needed), as rules' `_pnr(...) or _org(...)`: a
 * rejection is final when both are. */
static int either(int person, int org) {
    if (person != REJECT && person != REJECT_FINAL) return person;
    if (org != REJECT && org != REJECT_FINAL) return org;
    return person == REJECT_FINAL && org == REJECT_FINAL ? REJECT_FINAL : REJECT;
}

/* Confidences: personnummer 0-5 (12 digits, 11 characters, 13), organisationsnummer 6-11. */
static int pnr_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const char *core = (const char *)c->p + c->start;
    Py_ssize_t len = c->end - c->start;
    int org = core[0] == '1' && core[1] == '6';
    char ten[10];
    int verdict;
    switch (len) {
    case 12: /* dig12, then `16` + an organisationsnummer */
        verdict = pnr_rule(s, c, 0, 1, out);
        if (!org || (verdict != REJECT && verdict != REJECT_FINAL)) return verdict;
        return either(verdict, org_rule(s, c, core + 2, 6, out));
    case 11: /* num_sep: a third digit of 2 or more is no month, but an organisationsnummer */
        if (core[2] < '2') return pnr_rule(s, c, 2, 1, out);
        if (core[6] != '-') return REJECT_FINAL;
        memcpy(ten, core, 6);
        memcpy(ten + 6, core + 7, 4);
        return org_rule(s, c, ten, 8, out);
    default: /* 13: a century and a separator; `16` + an organisationsnummer with a hyphen */
        verdict = pnr_rule(s, c, 4, 0, out);
        if (!org || (verdict != REJECT && verdict != REJECT_FINAL)) return verdict;
        if (core[8] != '-') return either(verdict, REJECT_FINAL);
        memcpy(ten, core + 2, 6);
        memcpy(ten + 6, core + 9, 4);
        return either(verdict, org_rule(s, c, ten, 10, out));
    }
}

PyObject *hot_confirm_pnr(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, pnr_core, pnr_judge);
}

/* ---- e-mail addresses (rules.email_address, identifiers.email.parse) ---------------------- */

static inline int atext(unsigned char c) { /* RFC 5322 atom characters */
    return is_alnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static Py_ssize_t email_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* One local-part byte, '@', labels of [A-Za-z0-9-] and the last label, counted from the
     * right, that is a top-level domain: what the pattern's backtracking gives. */
    if (s + 1 >= n || p[s + 1] != '@') return -1;
    if (p[s] >= 0x80) return -2;
    if (!atext(p[s])) return -1;
    Py_ssize_t run = s + 2;
    while (run < n && (is_alnum(p[run]) || p[run] == '-' || p[run] == '.' || p[run] >= 0x80)) {
        if (p[run] >= 0x80) return -2;
        run++;
    }
    Py_ssize_t pos = s + 2;
    while (pos < run && p[pos] != '.') pos++;
    if (pos == s + 2) return -1;
    Py_ssize_t best = -1;
    while (pos < run && p[pos] == '.') {
        Py_ssize_t a = pos + 1, b = a;
        while (b < run && p[b] != '.') b++;
        if (b == a) break;
        int letters = 1;
        for (Py_ssize_t i = a; i < b; i++) letters = letters && is_letter(p[i]);
        if ((letters && b - a >= 2 && b - a <= 24) ||
            (b - a > 4 && memcmp(p + a, "xn--", 4) == 0))
            best = b;
        pos = b;
    }
    return best;
}

static int label_ok(const unsigned char *l, Py_ssize_t n) {
    if (n < 1 || n > 63 || !is_alnum(l[0]) || !is_alnum(l[n - 1])) return 0;
    for (Py_ssize_t i = 1; i < n - 1; i++)
        if (!is_alnum(l[i]) && l[i] != '-') return 0;
    return 1;
}

static int email_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    /* The local part before the candidate, as far as local-part characters go. */
    Py_ssize_t head = c->start;
    while (head > c->lo && (atext(p[head - 1]) || p[head - 1] == '.' || p[head - 1] >= 0x80)) {
        if (p[head - 1] >= 0x80) return UNDECIDED;
        head--;
    }
    Py_ssize_t at = c->start + 1, local = at - 64 > head ? at - 64 : head;
    while (local < at && p[local] == '.') local++;
    if (local == at || p[at - 1] == '.') return REJECT;
    for (Py_ssize_t i = local + 1; i < at; i++)
        if (p[i] == '.' && p[i - 1] == '.') return REJECT;
    /* The domain: labels of a host name, a top-level domain of letters. */
    const unsigned char *domain = p + at + 1;
    Py_ssize_t dn = c->end - at - 1;
    for (Py_ssize_t i = 1; i < dn; i++)
        if (domain[i] == '-' && domain[i - 1] == '-') return UNDECIDED;
    if (dn > 253) return REJECT;
    Py_ssize_t label = 0, labels = 0, last_label = 0;
    for (Py_ssize_t i = 0; i <= dn; i++)
        if (i == dn || domain[i] == '.') {
            if (!label_ok(domain + label, i - label)) return REJECT;
            labels++;
            last_label = label;
            label = i + 1;
        }
    Py_ssize_t last = at + 1 + last_label, tld = c->end - last;
    for (Py_ssize_t i = last; i < c->end; i++)
        if (!is_letter(p[i])) return REJECT;
    if (labels < 2 || tld < 2 || tld > 24) return REJECT;
    /* A top-level domain in one case, or capitalised ("Q@E.xR" is random bytes). */
    int upper = 0, lower = 0, rest_upper = 0;
    for (Py_ssize_t i = last; i < c->end; i++) {
        int up = p[i] <= 'Z';
        upper += up;
        lower += !up;
        if (i > last) rest_upper += up;
    }
    if (upper && lower && !(p[last] <= 'Z' && !rest_upper)) return REJECT;
    if (!textual(p + c->lo, local - c->lo, p + c->end, c->an)) return REJECT;
    char value[64 + 1 + 253];
    Py_ssize_t vn = c->end - local;
    for (Py_ssize_t i = 0; i < vn; i++) {
        unsigned char ch = p[local + i];
        value[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
    }
    return hit(out, EMAIL, 0.95, value, vn, local, c->end);
}

PyObject *hot_confirm_email(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, email_core, email_judge);
}

/* ---- IPv4 addresses (rules.ipv4_address, identifiers.ip.parse) ---------------------------- */

static Py_ssize_t ipv4_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* Four runs of one to three digits joined by dots, no digit after. */
    Py_ssize_t i = s;
    for (int group = 0; group < 4; group++) {
        if (group && (i >= n || p[i++] != '.')) return -1;
        Py_ssize_t from = i;
        while (i < n && is_digit(p[i])) i++;
        if (i == from || i - from > 3) return -1;
    }
    return i;
}

/* str.isdigit() of a Latin-1 character: the ASCII digits and the superscripts 1, 2, 3. */
static inline int latin1_digit(unsigned char c) {
    return is_digit(c) || c == 0xB2 || c == 0xB3 || c == 0xB9;
}

/* rules._printable on one Latin-1 character (-1: none). */
static inline int printable(int c) {
    return c < 0 || (c >= 0x20 && c <= 0x7E) || (c >= 0xA1 && c != 0xAD) || c == '\t' ||
           c == '\r' || c == '\n';
}

static int ipv4_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    Py_ssize_t bn = c->start - c->lo, an = c->an;
    const unsigned char *after = p + c->end;
    if (an >= 2 && after[0] == '.' && latin1_digit(after[1])) return REJECT; /* 1.2.3.4.5 */
    int text_edges = printable(bn ? p[c->start - 1] : -1) && printable(an ? after[0] : -1);
    int has_word = -1; /* not looked for yet */
    if (!textual(p + c->lo, bn, after, an)) {
        if (!text_edges || !(has_word = near(s, c))) return REJECT;
    }
    /* identifiers.ip.parse: no leading zero, octets up to 255, not 0.0.0.0 or broadcast */
    int octets[4], k = 0;
    for (Py_ssize_t i = c->start; i < c->end; i++) {
        Py_ssize_t from = i;
        int value = 0;
        while (i < c->end && p[i] != '.') value = value * 10 + (p[i++] - '0');
        if ((p[from] == '0' && i - from > 1) || value > 255) return REJECT;
        octets[k++] = value;
    }
    int zero = !octets[0] && !octets[1] && !octets[2] && !octets[3];
    int broadcast = octets[0] == 255 && octets[1] == 255 && octets[2] == 255 && octets[3] == 255;
    if (zero || broadcast || octets[0] == 127) return REJECT;
    if (has_word < 0) has_word = near(s, c);
    if (!has_word && vetoed(s, c)) return REJECT;
    return hit(out, IP_ADDRESS, s->conf[has_word], (const char *)p + c->start, c->end - c->start,
               c->start, c->end);
}

PyObject *hot_confirm_ipv4(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, ipv4_core, ipv4_judge);
}

/* ---- the order of candidates (scanners.fastpath.RawMatcher._starts) ----------------------
 *
 * order_starts(pairs, shift, gated) -> (starts, at_zero, gate_positions) for the engine's
 * (position, kind) pairs of one page:
 * - starts: the pairs of kinds that need no keyword, distinct and sorted, each moved on by
 *   shift[kind] bytes (kinds whose engine pattern holds the byte before the value);
 * - at_zero: such pairs at position 0 with a shift, left as they are (only the Python side
 *   can tell whether the pattern's `^` alternative matched the value itself there);
 * - gate_positions: {kind: sorted distinct positions} for the kinds with gated[kind] set.
 * `pairs` may also be packed keys (bytes of native uint64, position << 8 | kind, as
 * scanners._hs gives them); the starts are then packed keys too, and merge_starts and
 * confirm_all take them so: a page's candidates become no tuples at all.
 * A page of text gives one pair every few dozen bytes: in Python, shifting, splitting, a set
 * and a sort cost about 2 us a pair. The pairs' own tuples are kept where unchanged. */

typedef struct {
    uint64_t key; /* position << 8 | kind */
    PyObject *pair;
} keyed_t;

static int by_key(const void *a, const void *b) {
    uint64_t x = ((const keyed_t *)a)->key, y = ((const keyed_t *)b)->key;
    return x < y ? -1 : x > y;
}

static PyObject *sorted_distinct(keyed_t *v, Py_ssize_t n) {
    qsort(v, (size_t)n, sizeof *v, by_key);
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (kept == 0 || v[kept - 1].key != v[i].key) v[kept++] = v[i];
    PyObject *out = PyList_New(kept);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < kept; i++) PyList_SET_ITEM(out, i, Py_NewRef(v[i].pair));
    return out;
}

static int pair_of(PyObject *pair, Py_ssize_t *pos, Py_ssize_t *kind) {
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_TypeError, "pairs are (position, kind) tuples");
        return -1;
    }
    *pos = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
    *kind = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
    if ((*pos == -1 || *kind == -1) && PyErr_Occurred()) return -1;
    if (*pos < 0 || *kind < 0 || *kind > 255 || *pos > (Py_ssize_t)(UINT64_MAX >> 9)) {
        PyErr_SetString(PyExc_ValueError, "a position >= 0 and a kind 0-255");
        return -1;
    }
    return 0;
}

/* positions[kind] = the sorted distinct positions of the `ng` gate keys (kind << 56 | position). */
static int gate_positions(keyed_t *gates, Py_ssize_t ng, PyObject *positions) {
    qsort(gates, (size_t)ng, sizeof *gates, by_key);
    for (Py_ssize_t i = 0; i < ng;) {
        uint64_t kind = gates[i].key >> 56;
        PyObject *list = PyList_New(0);
        PyObject *key = PyLong_FromUnsignedLongLong(kind);
        int failed = list == NULL || key == NULL || PyDict_SetItem(positions, key, list) < 0;
        Py_XDECREF(key);
        for (Py_ssize_t j = i; !failed && j < ng && gates[j].key >> 56 == kind; j++) {
            if (j > i && gates[j].key == gates[j - 1].key) continue;
            PyObject *at = PyLong_FromUnsignedLongLong(gates[j].key & ((1ULL << 56) - 1));
            failed = at == NULL || PyList_Append(list, at) < 0;
            Py_XDECREF(at);
        }
        Py_XDECREF(list);
        if (failed) return -1;
        while (i < ng && gates[i].key >> 56 == kind) i++;
    }
    return 0;
}

/* order_starts's result from its sorted starts (taken; NULL: they failed) and gate keys. */
static PyObject *ordered(PyObject *starts, keyed_t *gates, Py_ssize_t ng, PyObject *at_zero,
                         PyObject *positions) {
    if (starts == NULL) return NULL;
    if (gate_positions(gates, ng, positions) < 0) {
        Py_DECREF(starts);
        return NULL;
    }
    return Py_BuildValue("(NOO)", starts, at_zero, positions);
}

static int by_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort `n` keys and drop repeats: bytes of the distinct keys in order. */
static PyObject *sorted_distinct_keys(uint64_t *v, Py_ssize_t n) {
    int sorted = 1;
    for (Py_ssize_t i = 1; i < n && sorted; i++) sorted = v[i - 1] <= v[i];
    if (!sorted) qsort(v, (size_t)n, sizeof *v, by_u64);
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (kept == 0 || v[kept - 1] != v[i]) v[kept++] = v[i];
    return PyBytes_FromStringAndSize((const char *)v, kept * (Py_ssize_t)sizeof *v);
}

/* order_starts on packed keys (position << 8 | kind, native uint64): the same three results,
 * with the starts as packed keys too. */
static PyObject *order_keys(const Py_buffer *view, const unsigned char *shift,
                            const unsigned char *gated, Py_ssize_t kinds) {
    Py_ssize_t n = view->len / (Py_ssize_t)sizeof(uint64_t);
    if (view->len % (Py_ssize_t)sizeof(uint64_t)) {
        PyErr_SetString(PyExc_ValueError, "packed keys are 8 bytes each");
        return NULL;
    }
    uint64_t *plain = PyMem_Malloc(sizeof(uint64_t) * (size_t)(n ? n : 1));
    keyed_t *gates = PyMem_Malloc(sizeof(keyed_t) * (size_t)(n ? n : 1));
    PyObject *at_zero = PyList_New(0), *positions = PyDict_New(), *result = NULL;
    Py_ssize_t np = 0, ng = 0;
    if (plain == NULL || gates == NULL || at_zero == NULL || positions == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t key;
        memcpy(&key, (const char *)view->buf + i * (Py_ssize_t)sizeof key, sizeof key);
        uint64_t pos = key >> 8, kind = key & 255;
        if ((Py_ssize_t)kind >= kinds) {
            PyErr_SetString(PyExc_ValueError, "a kind beyond the shift table");
            goto done;
        }
        if (gated[kind]) {
            gates[ng++] = (keyed_t){kind << 56 | pos, NULL};
        } else if (shift[kind] && pos == 0) {
            PyObject *pair = Py_BuildValue("(nn)", (Py_ssize_t)0, (Py_ssize_t)kind);
            int failed = pair == NULL || PyList_Append(at_zero, pair) < 0;
            Py_XDECREF(pair);
            if (failed) goto done;
        } else {
            plain[np++] = (pos + shift[kind]) << 8 | kind;
        }
    }
    result = ordered(sorted_distinct_keys(plain, np), gates, ng, at_zero, positions);
done:
    PyMem_Free(plain);
    PyMem_Free(gates);
    Py_XDECREF(at_zero);
    Py_XDECREF(positions);
    return result;
}

PyObject *hot_order_starts(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !(PyList_Check(args[0]) || PyObject_CheckBuffer(args[0])) ||
        !PyBytes_Check(args[1]) || !PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "order_starts(pairs: list or packed keys, shift: bytes, gated: bytes)");
        return NULL;
    }
    PyObject *pairs = args[0];
    const unsigned char *shift = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    const unsigned char *gated = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    Py_ssize_t kinds = PyBytes_GET_SIZE(args[1]);
    if (PyBytes_GET_SIZE(args[2]) != kinds) {
        PyErr_SetString(PyExc_ValueError, "shift and gated name the same kinds");
        return NULL;
    }
    if (!PyList_Check(pairs)) {
        Py_buffer view;
        if (PyObject_GetBuffer(pairs, &view, PyBUF_SIMPLE) < 0) return NULL;
        PyObject *ordered = order_keys(&view, shift, gated, kinds);
        PyBuffer_Release(&view);
        return ordered;
    }
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    keyed_t *plain = PyMem_Malloc(sizeof(keyed_t) * (size_t)(n ? n : 1));
    keyed_t *gates = PyMem_Malloc(sizeof(keyed_t) * (size_t)(n ? n : 1));
    PyObject *made = PyList_New(0), *at_zero = PyList_New(0), *positions = PyDict_New();
    PyObject *result = NULL;
    Py_ssize_t np = 0, ng = 0;
    if (plain == NULL || gates == NULL || made == NULL || at_zero == NULL || positions == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(pairs, i);
        Py_ssize_t pos, kind;
        if (pair_of(pair, &pos, &kind) < 0) goto done;
        if (kind >= kinds) {
            PyErr_SetString(PyExc_ValueError, "a kind beyond the shift table");
            goto done;
        }
        if (gated[kind]) {
            gates[ng++] = (keyed_t){(uint64_t)kind << 56 | (uint64_t)pos, pair};
        } else if (shift[kind] && pos == 0) {
            if (PyList_Append(at_zero, pair) < 0) goto done;
        } else {
            if (shift[kind]) {
                pos += shift[kind];
                /* The moved pair is new; `made` keeps it alive until the result holds it. */
                pair = Py_BuildValue("(nn)", pos, kind);
                if (pair == NULL || PyList_Append(made, pair) < 0) {
                    Py_XDECREF(pair);
                    goto done;
                }
                Py_DECREF(pair);
            }
            plain[np++] = (keyed_t){(uint64_t)pos << 8 | (uint64_t)kind, pair};
        }
    }
    result = ordered(sorted_distinct(plain, np), gates, ng, at_zero, positions);
done:
    PyMem_Free(plain);
    PyMem_Free(gates);
    Py_XDECREF(made);
    Py_XDECREF(at_zero);
    Py_XDECREF(positions);
    return result;
}

/* merge_starts(starts, more) -> starts with the pairs of `more` (any order) merged in, sorted
 * and distinct: the values found near gate words and the pairs at position 0 join a page's
 * sorted starts without sorting them all again. */
/* merge_starts on packed starts: packed keys back. */
static PyObject *merge_keys(PyObject *starts, PyObject *more) {
    Py_buffer view;
    if (PyObject_GetBuffer(starts, &view, PyBUF_SIMPLE) < 0) return NULL;
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(uint64_t), m = PyList_GET_SIZE(more);
    PyObject *result = NULL;
    uint64_t *v = NULL;
    if (view.len % (Py_ssize_t)sizeof(uint64_t)) {
        PyErr_SetString(PyExc_ValueError, "packed keys are 8 bytes each");
        goto done;
    }
    if ((v = PyMem_Malloc(sizeof(uint64_t) * (size_t)(n + m ? n + m : 1))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(v, view.buf, (size_t)n * sizeof *v);
    for (Py_ssize_t i = 0; i < m; i++) {
        Py_ssize_t pos, kind;
        if (pair_of(PyList_GET_ITEM(more, i), &pos, &kind) < 0) goto done;
        v[n + i] = (uint64_t)pos << 8 | (uint64_t)kind;
    }
    result = sorted_distinct_keys(v, n + m);
done:
    PyMem_Free(v);
    PyBuffer_Release(&view);
    return result;
}

PyObject *hot_merge_starts(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !(PyList_Check(args[0]) || PyObject_CheckBuffer(args[0])) ||
        !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "merge_starts(starts: list or packed keys, more: list)");
        return NULL;
    }
    if (!PyList_Check(args[0])) return merge_keys(args[0], args[1]);
    PyObject *starts = args[0], *more = args[1];
    Py_ssize_t n = PyList_GET_SIZE(starts), m = PyList_GET_SIZE(more);
    keyed_t *v = PyMem_Malloc(sizeof(keyed_t) * (size_t)(n + m ? n + m : 1));
    if (v == NULL) return PyErr_NoMemory();
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n + m; i++) {
        PyObject *pair = i < n ? PyList_GET_ITEM(starts, i) : PyList_GET_ITEM(more, i - n);
        Py_ssize_t pos, kind;
        if (pair_of(pair, &pos, &kind) < 0) goto done;
        v[i] = (keyed_t){(uint64_t)pos << 8 | (uint64_t)kind, pair};
    }
    result = sorted_distinct(v, n + m);
done:
    PyMem_Free(v);
    return result;
}

/* ---- Swedish phone numbers without country code (rules.phone_number, identifiers.phone) ---- */

/* After a first part that ends at `q`: `count` repeats of an optional space or hyphen and a
 * digit, as many as the pattern's greedy repeat takes and then gives back, until the byte after
 * them is no letter or digit; -1 for none of min..max repeats. */
static Py_ssize_t digit_repeats(const unsigned char *p, Py_ssize_t n, Py_ssize_t q, int min,
                                int max) {
    Py_ssize_t ends[16];
    int count = 0;
    while (count < max) {
        if (q + 1 < n && (p[q] == ' ' || p[q] == '-') && is_digit(p[q + 1])) q += 2;
        else if (q < n && is_digit(p[q])) q += 1;
        else break;
        ends[count++] = q;
    }
    for (int k = count; k >= min && k > 0; k--)
        if (ends[k - 1] == n || !is_alnum(p[ends[k - 1]])) return ends[k - 1];
    return -1;
}

static Py_ssize_t phone_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* 0[1-9](?:[ -]?[0-9]){6,9} | \(0[1-9][0-9]{0,2}\) ?[0-9](?:[ -]?[0-9]){4,7} */
    if (s + 1 < n && p[s] == '0' && p[s + 1] >= '1' && p[s + 1] <= '9')
        return digit_repeats(p, n, s + 2, 6, 9);
    if (!(s + 2 < n && p[s] == '(' && p[s + 1] == '0' && p[s + 2] >= '1' && p[s + 2] <= '9'))
        return -1;
    Py_ssize_t q = s + 3;
    while (q < n && q < s + 5 && is_digit(p[q])) q++;
    if (q >= n || p[q] != ')') return -1;
    q++;
    if (q < n && p[q] == ' ' && q + 1 < n && is_digit(p[q + 1])) q++;
    if (q >= n || !is_digit(p[q])) return -1;
    return digit_repeats(p, n, q + 1, 4, 7);
}

/* identifiers.digitdfa: per state, the next state for digits 0-9 (0: none), then 1 where a
 * number may end; state 1 is the start. */
#define DFA_STATE_WORDS 11

/* identifiers.phone.parse on p[from:to], a Swedish number written with its trunk 0: the
 * national digits in `national` (without the 0), or 0 when it is no valid number; -1 on error.
 * (parse also tries a second 0 after the country code, which the pattern's `0[1-9]` rules out
 * here.) */
static int phone_national(const setup_t *s, const unsigned char *p, Py_ssize_t from,
                          Py_ssize_t to, char national[32], Py_ssize_t *len) {
    char compact[64];
    Py_ssize_t k = 0;
    for (Py_ssize_t i = from; i < to && k < 63; i++)
        if (is_digit(p[i])) compact[k++] = (char)p[i];
    if (k < 7 || k > 15) return 0;
    Py_ssize_t words = PyBytes_GET_SIZE(s->table) / (Py_ssize_t)sizeof(uint16_t);
    if (words >= 2 * DFA_STATE_WORDS && words % DFA_STATE_WORDS == 0) { /* the patterns' automaton: a lookup a digit */
        const uint16_t *dfa = (const uint16_t *)PyBytes_AS_STRING(s->table);
        Py_ssize_t state = 1;
        for (Py_ssize_t i = 1; i < k && state; i++) {
            state = dfa[state * DFA_STATE_WORDS + (compact[i] - '0')];
            if (state * DFA_STATE_WORDS >= words) return 0; /* not our table */
        }
        if (!state || !dfa[state * DFA_STATE_WORDS + 10]) return 0;
        *len = k - 1;
        memcpy(national, compact + 1, (size_t)*len);
        return 1;
    }
    PyObject *digits = PyUnicode_FromStringAndSize(compact + 1, k - 1);
    if (digits == NULL) return -1;
    PyObject *match = PyObject_CallOneArg(s->check, digits);
    Py_DECREF(digits);
    if (match == NULL) return -1;
    int valid = match != Py_None;
    Py_DECREF(match);
    if (valid) {
        *len = k - 1;
        memcpy(national, compact + 1, (size_t)*len);
    }
    return valid;
}

static int phone_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    Py_ssize_t bn = c->start - c->lo;
    /* the tail of a longer chain of digit groups (a card, an account) */
    if (bn >= 2 && (p[c->start - 1] == ' ' || p[c->start - 1] == '-') && is_digit(p[c->start - 2]))
        return REJECT;
    char national[32];
    Py_ssize_t len = 0, stop = c->end;
    int valid = phone_national(s, p, c->start, stop, national, &len);
    while (valid == 0) { /* the longest prefix that is a number and ends before a space */
        Py_ssize_t space = stop - 1;
        while (space >= c->start && p[space] != ' ') space--;
        if (space < c->start || space - c->start < 8) return REJECT;
        stop = space;
        valid = phone_national(s, p, c->start, stop, national, &len);
    }
    if (valid < 0) return -1;
    int has_word = near(s, c); /* the words after the whole candidate, as the rule has them */
    int bare = 1, pnr_shape = stop - c->start == 11;
    for (Py_ssize_t i = c->start; i < stop; i++) {
        bare = bare && is_digit(p[i]);
        Py_ssize_t at = i - c->start;
        if (pnr_shape && !(at == 6 ? p[i] == '-' || p[i] == '+' : is_digit(p[i]))) pnr_shape = 0;
    }
    int mobile = len >= 2 && national[0] == '7' && strchr("02369", national[1]) != NULL;
    if (!has_word && (pnr_shape || (bare && !mobile))) return REJECT;
    char e164[40] = "+46";
    memcpy(e164 + 3, national, (size_t)len);
    return hit(out, PHONE, s->conf[(bare ? 0 : 2) + has_word], e164, 3 + len, c->start, stop);
}

PyObject *hot_confirm_phone(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, phone_core, phone_judge);
}

/* ---- payment cards (rules.card_number, identifiers.card.parse) ---------------------------- */

static Py_ssize_t digit_run(const unsigned char *p, Py_ssize_t n, Py_ssize_t at) {
    Py_ssize_t i = at;
    while (i < n && is_digit(p[i])) i++;
    return i - at;
}

static Py_ssize_t card_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* [0-9]{13,19} | [0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7} | [0-9]{4}[ -][0-9]{6}[ -]
     * [0-9]{4,5} | [0-9]{4}[ -][0-9]{5}[ -][0-9]{6}, and no letter or digit after. Each group
     * but the first ends at a separator, so each must be a whole digit run: the first run's
     * length picks the first alternative or the others, the second run's one of those. */
#define SEP(i) ((i) < n && (p[i] == ' ' || p[i] == '-'))
#define TAIL(i) ((i) == n || !is_alnum(p[i]))
    Py_ssize_t run = digit_run(p, n, s);
    if (run >= 13) return run <= 19 && TAIL(s + run) ? s + run : -1;
    if (run != 4 || !SEP(s + 4)) return -1;
    Py_ssize_t q = s + 5, second = digit_run(p, n, q);
    if (second < 4 || second > 6 || !SEP(q + second)) return -1;
    q += second + 1;
    Py_ssize_t third = digit_run(p, n, q);
    if (second == 4) { /* a third group of four, a fourth of one to seven */
        if (third != 4 || !SEP(q + 4)) return -1;
        q += 5;
        Py_ssize_t fourth = digit_run(p, n, q);
        return fourth >= 1 && fourth <= 7 && TAIL(q + fourth) ? q + fourth : -1;
    }
    int fits = second == 6 ? third == 4 || third == 5 : third == 6;
    return fits && TAIL(q + third) ? q + third : -1;
#undef SEP
#undef TAIL
}

/* The set-up's table: for each first four digits (10,000 bytes), the card lengths 12-19 that
 * their issuer prefixes allow, as bits 0-7 (identifiers.card.length_masks). */
static int card_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    char digits[20];
    int k = 0, same = 1;
    for (Py_ssize_t i = c->start; i < c->end; i++)
        if (is_digit(p[i])) {
            if (k == 19) return REJECT_FINAL;
            digits[k++] = (char)p[i];
            same = same && p[i] == digits[0];
        }
    if (PyBytes_GET_SIZE(s->table) != 10000) return UNDECIDED; /* no table: Python decides */
    if (k < 13 || same) return REJECT_FINAL;
    int first4 = (digits[0] - '0') * 1000 + (digits[1] - '0') * 100 + (digits[2] - '0') * 10 +
                 (digits[3] - '0');
    if (!((unsigned char)PyBytes_AS_STRING(s->table)[first4] >> (k - 12) & 1)) return REJECT_FINAL;
    if (!hot_luhn(digits, k)) return REJECT_FINAL;
    int grouped = k != c->end - c->start;
    return hit(out, PAYMENT_CARD, s->conf[(grouped ? 2 : 0) + near(s, c)], digits, k, c->start, c->end);
}

PyObject *hot_confirm_card(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, card_core, card_judge);
}

/* ---- IBAN (rules.iban_number, identifiers.iban.parse) ------------------------------------- */

static inline int iban_char(unsigned char c) { return is_digit(c) || (c >= 'A' && c <= 'Z'); }

static Py_ssize_t iban_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* [A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})? and no letter or digit
     * after. A group takes its separator exactly when one is there (four characters cannot
     * start on it), so the greedy repeat has one way to run: it is given back group by group,
     * and at each group's end the optional last group is tried before the end itself. */
#define SEP(i) ((i) < n && (p[i] == ' ' || p[i] == '-'))
#define TAIL(i) ((i) == n || !is_alnum(p[i]))
    if (!(s + 4 <= n && p[s] >= 'A' && p[s] <= 'Z' && p[s + 1] >= 'A' && p[s + 1] <= 'Z' &&
          is_digit(p[s + 2]) && is_digit(p[s + 3])))
        return -1;
    Py_ssize_t ends[8] = {s + 4};
    int groups = 0;
    while (groups < 7) {
        Py_ssize_t q = ends[groups] + SEP(ends[groups]);
        if (!(q + 4 <= n && iban_char(p[q]) && iban_char(p[q + 1]) && iban_char(p[q + 2]) &&
              iban_char(p[q + 3])))
            break;
        ends[++groups] = q + 4;
    }
    for (int k = groups; k >= 2; k--) {
        Py_ssize_t q = ends[k] + SEP(ends[k]), run = 0;
        while (run < 5 && q + run < n && iban_char(p[q + run])) run++;
        if (run >= 1 && run <= 4 && TAIL(q + run)) return q + run;
        if (TAIL(ends[k])) return ends[k];
    }
    return -1;
#undef SEP
#undef TAIL
}

/* The set-up's table: identifiers.iban.structure_table, one record per country code. */
enum { IBAN_RECORD = 32 };

/* identifiers.iban.parse on `k` compact characters (letters and digits): 1, 0, or -1 on error. */
static int iban_valid(const setup_t *s, const char *v, int k) {
    if (k < 15 || k > 34) return 0;
    int check = (v[2] - '0') * 10 + (v[3] - '0');
    if (check < 2 || check > 98) return 0; /* stdnum lets 00, 01 and 99 pass as 97, 98, 02 */
    int r = 0;
    for (int i = 0; i < k; i++) {
        char ch = v[(i + 4) % k];
        r = ch <= '9' ? (r * 10 + (ch - '0')) % 97 : (r * 100 + (ch - 'A' + 10)) % 97;
    }
    if (r != 1 || v[0] < 'A' || v[1] < 'A') return 0;
    const unsigned char *record = (const unsigned char *)PyBytes_AS_STRING(s->table) +
                                  ((v[0] - 'A') * 26 + (v[1] - 'A')) * IBAN_RECORD;
    if (record[0] != k - 4) return 0;
    for (int i = 4; i < k; i++) {
        unsigned char cls = record[2 + i - 4], ch = (unsigned char)v[i];
        if ((cls == 'n' && !is_digit(ch)) || (cls == 'a' && is_digit(ch))) return 0;
    }
    if (!record[1]) return 1;
    /* The country's national check (Norway's mod 11, ...): in Python. */
    PyObject *number = PyUnicode_FromStringAndSize(v, k);
    if (number == NULL) return -1;
    PyObject *ok = PyObject_CallOneArg(s->check, number);
    Py_DECREF(number);
    if (ok == NULL) return -1;
    int valid = PyObject_IsTrue(ok);
    Py_DECREF(ok);
    return valid;
}

static int iban_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    if (PyBytes_GET_SIZE(s->table) != 26 * 26 * IBAN_RECORD) return UNDECIDED;
    /* The compact characters and where each ends in the buffer; the core holds at most
     * 4 + 7 * 4 + 4 of them. */
    char v[40];
    Py_ssize_t ends[40];
    int k = 0;
    for (Py_ssize_t i = c->start; i < c->end; i++)
        if (iban_char(p[i])) {
            v[k] = (char)p[i];
            ends[k++] = i + 1;
        }
    /* The longest prefix of at least 15 characters that is a valid IBAN. */
    for (; k >= 15; k--) {
        int valid = iban_valid(s, v, k);
        if (valid < 0) return -1;
        if (valid) {
            return hit(out, IBAN, 0.95, v, k, c->start, ends[k - 1]);
        }
    }
    return REJECT_FINAL; /* the rule reads the core alone */
}

PyObject *hot_confirm_iban(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, iban_core, iban_judge);
}

/* ---- bankgiro numbers (rules.bankgiro_number, identifiers.giro.parse_bankgiro) ------------ */

static Py_ssize_t bankgiro_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* [0-9]{3,4}-[0-9]{4} and no digit after: both runs whole (a longer first run cannot give
     * back a digit to reach the hyphen). */
    Py_ssize_t run = digit_run(p, n, s);
    if (run < 3 || run > 4 || s + run >= n || p[s + run] != '-') return -1;
    return digit_run(p, n, s + run + 1) == 4 ? s + run + 5 : -1;
}

static int bankgiro_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const unsigned char *p = c->p;
    char digits[8];
    int k = 0;
    for (Py_ssize_t i = c->start; i < c->end; i++)
        if (p[i] != '-') digits[k++] = (char)p[i];
    /* The rule needs all three; the Luhn digit alone does not depend on the left window. */
    if (!hot_luhn(digits, k)) return REJECT_FINAL;
    if (!near(s, c) || !textual(p + c->lo, c->start - c->lo, p + c->end, c->an)) return REJECT;
    return hit(out, BANKGIRO, s->conf[0], digits, k, c->start, c->end);
}

PyObject *hot_confirm_bankgiro(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, bankgiro_core, bankgiro_judge);
}

/* ---- bare ten-digit runs (rules.dig10) ---------------------------------------------------- */

static Py_ssize_t dig10_core(const unsigned char *p, Py_ssize_t n, Py_ssize_t s) {
    /* [0-9]{10} and no letter or digit after */
    Py_ssize_t end = s + 10;
    return digit_run(p, n, s) == 10 && (end == n || !is_alnum(p[end])) ? end : -1;
}

/* The ambiguous rule: a personnummer beside a personnummer word, else an organisationsnummer
 * beside an organisationsnummer word. Confidences: personnummer 0-1, organisationsnummer 2-3.
 * When the digits are neither, no word can change that: the rejection is final. */
static int dig10_judge(const setup_t *s, const candidate_t *c, hit_t *out) {
    const char *core = (const char *)c->p + c->start;
    long year;
    int month_day;
    char body[10];
    int person = hot_pnr_fields(core, 10, today_now(), &year, &month_day, body);
    int org = core[0] != '0' && core[0] != '4' && core[2] >= '2' && hot_luhn(core, 10);
    if (!person && !org) return REJECT_FINAL;
    if (person && near(s, c)) return pnr_rule(s, c, 0, 0, out);
    if (org && near_words(s->more_words, c)) return org_rule(s, c, core, 2, out);
    return REJECT;
}

PyObject *hot_confirm_dig10(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return confirm(args, nargs, dig10_core, dig10_judge);
}

/* ---- the rules by number, for confirm_all ------------------------------------------------ */

static const struct {
    const char *name;
    core_fn core;
    judge_fn judge;
} RULES[] = {
    {"confirm_pnr", pnr_core, pnr_judge},
    {"confirm_email", email_core, email_judge},
    {"confirm_ipv4", ipv4_core, ipv4_judge},
    {"confirm_phone", phone_core, phone_judge},
    {"confirm_card", card_core, card_judge},
    {"confirm_iban", iban_core, iban_judge},
    {"confirm_bankgiro", bankgiro_core, bankgiro_judge},
    {"confirm_dig10", dig10_core, dig10_judge},
};
enum { RULE_COUNT = sizeof RULES / sizeof RULES[0] };

PyObject *hot_rule_names(void) {
    PyObject *names = PyTuple_New(RULE_COUNT);
    for (int i = 0; names != NULL && i < RULE_COUNT; i++) {
        PyObject *name = PyUnicode_FromString(RULES[i].name);
        if (name == NULL) Py_CLEAR(names);
        else PyTuple_SET_ITEM(names, i, name);
    }
    return names;
}

const void *hot_setup_of(PyObject *capsule) { return PyCapsule_GetPointer(capsule, SETUP); }

int hot_confirm_direct(const void *setup, int rule, const unsigned char *p, Py_ssize_t n,
                       Py_ssize_t start, Py_ssize_t origin, hit_t *out, PyObject **fallback) {
    if (rule < 0 || rule >= RULE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "no such C rule");
        return -1;
    }
    const setup_t *s = setup;
    int verdict = judged(s, RULES[rule].core, RULES[rule].judge, p, n, start, 1, origin, out);
    *fallback = s->fallback;
    return verdict;
}
