/* Person names in C: scanners.names.find_names, with the same rules and the same answers.
 *
 * find_names(text, first, surnames, not_surnames, endings, cue, row) -> [row(start, end,
 * confidence, normalized)] in text order. `first`, `surnames` and `not_surnames` are the
 * lexicons (frozensets of str), `endings` the surname endings (a tuple of Latin-1 str), `cue`
 * names._cue_before (asked only where a window may hold a cue: a colon, a greeting word or a
 * character beyond Latin-1 in it), `row` names.NameMatch (a tuple type of four fields).
 *
 * The patterns (names._NAME_RUN, names._INVERTED) are matched by hand. A word is a capital of
 * [A-ZÅÄÖÉÜ], then lower-case letters [a-zåäöéüß]+, then optionally '-' and such a word again.
 * Its end is unique: a shorter run of letters leaves a letter next, which neither the gap
 * ([ \t]+), the comma, the hyphen part nor the look-ahead (?![\w-]) accepts, and without a
 * hyphen part that could follow, the '-' left next fails all of them as well. So the regular
 * expressions' backtracking leaves two choices only: a run's third word (taken when the
 * look-ahead holds after it, else the run is two words if it holds after the second), and
 * the start, tried from the left at every capital that no word character or '-' precedes
 * (names._search). \w is Python's: Py_UNICODE_ISALNUM or '_'. Words are at most Latin-1, so
 * their lower case is a table. tests/scanners/test_names.py compares both on fuzzed text. */
#include "_hot.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} text_t;

static inline Py_UCS4 at(const text_t *t, Py_ssize_t i) {
    return PyUnicode_READ(t->kind, t->data, i);
}

static inline int is_upper(Py_UCS4 c) {
    return (c >= 'A' && c <= 'Z') || c == 0xC5 || c == 0xC4 || c == 0xD6 || c == 0xC9 ||
           c == 0xDC;
}

static inline int is_lower(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || c == 0xE5 || c == 0xE4 || c == 0xF6 || c == 0xE9 ||
           c == 0xFC || c == 0xDF;
}

/* [\w-] of the characters below 256, from Python's own tables (`glued1_init`): the check
 * before and after every word, where Py_UNICODE_ISALNUM's four table calls for a character
 * that is no letter were a tenth of finding the names in a customer register. */
static unsigned char GLUED1[256];
static int glued1_ready = 0;

static void glued1_init(void) {
    if (glued1_ready) return;
    for (Py_UCS4 c = 0; c < 256; c++)
        GLUED1[c] = (unsigned char)(c == '-' || c == '_' || Py_UNICODE_ISALNUM(c));
    glued1_ready = 1;
}

static inline int glued(const text_t *t, Py_ssize_t i) { /* [\w-] at i; none past the end */
    if (i < 0 || i >= t->n) return 0;
    Py_UCS4 c = at(t, i);
    if (c < 256) return GLUED1[c];
    return Py_UNICODE_ISALNUM(c);
}

static inline int gap(Py_UCS4 c) { return c == ' ' || c == '\t'; }

/* The end of a word starting at i, or -1. */
static Py_ssize_t word_end(const text_t *t, Py_ssize_t i) {
    if (i >= t->n || !is_upper(at(t, i))) return -1;
    Py_ssize_t j = i + 1;
    while (j < t->n && is_lower(at(t, j))) j++;
    if (j == i + 1) return -1;
    if (j + 2 < t->n && at(t, j) == '-' && is_upper(at(t, j + 1)) && is_lower(at(t, j + 2))) {
        j += 3;
        while (j < t->n && is_lower(at(t, j))) j++;
    }
    return j;
}

static Py_ssize_t after_gap(const text_t *t, Py_ssize_t i) { /* [ \t]+ from i, or -1 */
    Py_ssize_t j = i;
    while (j < t->n && gap(at(t, j))) j++;
    return j > i ? j : -1;
}

/* A run of two or three words at s: the starts and ends of its words; the count, or 0. */
static int name_run(const text_t *t, Py_ssize_t s, Py_ssize_t lo[3], Py_ssize_t hi[3]) {
    lo[0] = s;
    if ((hi[0] = word_end(t, s)) < 0) return 0;
    if ((lo[1] = after_gap(t, hi[0])) < 0 || (hi[1] = word_end(t, lo[1])) < 0) return 0;
    lo[2] = after_gap(t, hi[1]);
    if (lo[2] >= 0 && (hi[2] = word_end(t, lo[2])) >= 0 && !glued(t, hi[2])) return 3;
    return glued(t, hi[1]) ? 0 : 2;
}

/* `Surname, Firstname` at s: the two words' spans, or 0. */
static int inverted(const text_t *t, Py_ssize_t s, Py_ssize_t lo[2], Py_ssize_t hi[2]) {
    lo[0] = s;
    if ((hi[0] = word_end(t, s)) < 0 || hi[0] >= t->n || at(t, hi[0]) != ',') return 0;
    if ((lo[1] = after_gap(t, hi[0] + 1)) < 0 || (hi[1] = word_end(t, lo[1])) < 0) return 0;
    return !glued(t, hi[1]);
}

static inline Py_UCS1 lower1(Py_UCS4 c) { /* a word's characters: A-Z and ÅÄÖÉÜ go down */
    return (Py_UCS1)((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ? c + 0x20
                                                                                       : c);
}

typedef struct {
    text_t t;
    PyObject *text, *first, *surnames, *not_surnames, *cue, *row;
    char endings[64][16];
    Py_ssize_t ending_len[64];
    int nendings;
} names_t;

/* ---- the lexicons as hash tables of Latin-1 words ------------------------------------------
 *
 * A word is Latin-1 (see word_end), so a lexicon (a frozenset: it never changes) is looked up
 * as bytes: FNV-1a and a memcmp, not by a substring object, its SipHash and the set's lookup
 * (name_findings on the mixed bench's CSV text: 0.58 -> 0.51 us a name). Built at first use,
 * for the life of the process; words beyond Latin-1 are left out (no word of a text can equal
 * one). */
typedef struct {
    PyObject *set; /* a strong reference: the pointer stays this set's */
    size_t mask;
    uint32_t *hashes, *offsets; /* per slot; offsets[i] == UINT32_MAX: empty */
    uint8_t *lens;
    Py_UCS1 *chars;
} lexicon_t;

#define LEXICONS 4
static lexicon_t lexicons[LEXICONS];

static inline uint32_t fnv1a(const Py_UCS1 *w, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 16777619u;
    return h;
}

static int lexicon_build(lexicon_t *lex, PyObject *set) {
    Py_ssize_t count = PySet_GET_SIZE(set), total = 0;
    size_t slots = 16;
    while (slots < (size_t)count * 2 + 2) slots <<= 1;
    PyObject *it = PyObject_GetIter(set), *word;
    if (it == NULL) return -1;
    Py_UCS1 *chars = NULL;
    uint32_t *hashes = PyMem_Calloc(slots, sizeof *hashes);
    uint32_t *offsets = PyMem_Malloc(slots * sizeof *offsets);
    uint8_t *lens = PyMem_Calloc(slots, 1);
    if (hashes == NULL || offsets == NULL || lens == NULL) goto nomem;
    memset(offsets, 0xFF, slots * sizeof *offsets);
    while ((word = PyIter_Next(it)) != NULL) { /* first the room the characters need */
        if (PyUnicode_Check(word) && PyUnicode_KIND(word) == PyUnicode_1BYTE_KIND)
            total += PyUnicode_GET_LENGTH(word);
        Py_DECREF(word);
    }
    Py_DECREF(it);
    if (PyErr_Occurred() || total >= UINT32_MAX || (it = PyObject_GetIter(set)) == NULL) {
        it = NULL;
        goto fail;
    }
    if ((chars = PyMem_Malloc((size_t)total + 1)) == NULL) goto nomem;
    uint32_t used = 0;
    while ((word = PyIter_Next(it)) != NULL) {
        Py_ssize_t n = PyUnicode_Check(word) ? PyUnicode_GET_LENGTH(word) : 0;
        if (n > 0 && n <= 255 && PyUnicode_KIND(word) == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *w = PyUnicode_1BYTE_DATA(word);
            uint32_t h = fnv1a(w, (size_t)n);
            size_t i = h & (slots - 1);
            while (offsets[i] != UINT32_MAX) i = (i + 1) & (slots - 1);
            hashes[i] = h, offsets[i] = used, lens[i] = (uint8_t)n;
            memcpy(chars + used, w, (size_t)n);
            used += (uint32_t)n;
        }
        Py_DECREF(word);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) goto fail;
    *lex = (lexicon_t){Py_NewRef(set), slots - 1, hashes, offsets, lens, chars};
    return 0;
nomem:
    PyErr_NoMemory();
fail:
    Py_XDECREF(it);
    PyMem_Free(hashes), PyMem_Free(offsets), PyMem_Free(lens), PyMem_Free(chars);
    return -1;
}

/* The table of `set`, built at its first use; NULL (no error) when it cannot have one. */
static const lexicon_t *lexicon_of(PyObject *set) {
    if (!PyFrozenSet_CheckExact(set)) return NULL;
    for (int i = 0; i < LEXICONS; i++) {
        if (lexicons[i].set == set) return &lexicons[i];
        if (lexicons[i].set == NULL)
            return lexicon_build(&lexicons[i], set) < 0 ? NULL : &lexicons[i];
    }
    return NULL;
}

static int lexicon_holds(const lexicon_t *lex, const Py_UCS1 *w, size_t n) {
    uint32_t h = fnv1a(w, n);
    for (size_t i = h & lex->mask; lex->offsets[i] != UINT32_MAX; i = (i + 1) & lex->mask)
        if (lex->hashes[i] == h && lex->lens[i] == n &&
            memcmp(lex->chars + lex->offsets[i], w, n) == 0)
            return 1;
    return 0;
}

/* 1 if the set holds text[lo:hi], 0 if not, -1 on error. */
static int holds(const names_t *x, PyObject *set, Py_ssize_t lo, Py_ssize_t hi) {
    Py_UCS1 w[255];
    if (hi - lo <= (Py_ssize_t)sizeof w) {
        const lexicon_t *lex = lexicon_of(set);
        if (lex == NULL && PyErr_Occurred()) return -1;
        if (lex != NULL) {
            for (Py_ssize_t i = lo; i < hi; i++) w[i - lo] = (Py_UCS1)at(&x->t, i); /* Latin-1 */
            return lexicon_holds(lex, w, (size_t)(hi - lo));
        }
    }
    PyObject *word = PyUnicode_Substring(x->text, lo, hi);
    if (word == NULL) return -1;
    int found = PySet_Contains(set, word);
    Py_DECREF(word);
    return found;
}

/* names._surname_like on text[lo:hi]: 1, 0, or -1 on error. */
static int surname_like(const names_t *x, Py_ssize_t lo, Py_ssize_t hi) {
    int no = holds(x, x->not_surnames, lo, hi);
    if (no != 0) return no < 0 ? -1 : 0;
    int yes = holds(x, x->surnames, lo, hi);
    if (yes != 0) return yes;
    if (hi - lo <= 4) return 0;
    for (int e = 0; e < x->nendings; e++) {
        Py_ssize_t m = x->ending_len[e];
        if (m > hi - lo) continue;
        Py_ssize_t k = 0;
        while (k < m && lower1(at(&x->t, hi - m + k)) == (Py_UCS1)x->endings[e][k]) k++;
        if (k == m) return 1;
    }
    return 0;
}

static const char *const MARKS[] = {"mvh", "h\xe4lsning", "regards", "sincerely"};

/* names._cue_before(text, lo, hi), asking Python only where the window may hold a cue. */
static int cue_before(const names_t *x, Py_ssize_t lo, Py_ssize_t hi) {
    Py_UCS1 low[64];
    int ask = hi - lo > (Py_ssize_t)sizeof low;
    for (Py_ssize_t i = lo; i < hi && !ask; i++) {
        Py_UCS4 c = at(&x->t, i);
        if (c == ':' || c > 0xFF) ask = 1;
        else low[i - lo] = lower1(c);
    }
    /* One pass: the marks' first letters differ, so each place is compared with one mark. */
    for (Py_ssize_t i = 0; i < hi - lo && !ask; i++) {
        const char *mark;
        switch (low[i]) {
        case 'm': mark = MARKS[0]; break;
        case 'h': mark = MARKS[1]; break;
        case 'r': mark = MARKS[2]; break;
        case 's': mark = MARKS[3]; break;
        default: continue;
        }
        Py_ssize_t k = (Py_ssize_t)strlen(mark);
        ask = i + k <= hi - lo && memcmp(low + i, mark, (size_t)k) == 0;
    }
    if (!ask) return 0;
    PyObject *r = PyObject_CallFunction(x->cue, "Onn", x->text, lo, hi);
    if (r == NULL) return -1;
    int yes = PyObject_IsTrue(r);
    Py_DECREF(r);
    return yes;
}

/* A name found: where it is, how sure, and the words its normalized form joins, in order
 * (inverted names put the first name first). */
typedef struct {
    Py_ssize_t start, end;
    double conf;
    int n;
    Py_ssize_t lo[3], hi[3];
} named_t;

static void named(named_t *out, Py_ssize_t start, Py_ssize_t end, double conf,
                  const Py_ssize_t *lo, const Py_ssize_t *hi, const int *order, int n) {
    out->start = start;
    out->end = end;
    out->conf = conf;
    out->n = n;
    for (int w = 0; w < n; w++) {
        out->lo[w] = lo[order[w]];
        out->hi[w] = hi[order[w]];
    }
}

/* row(start, end, confidence, the words' lower case joined by spaces). */
static PyObject *name_row(const names_t *x, const named_t *m) {
    Py_ssize_t size = m->n - 1;
    Py_UCS4 widest = ' '; /* a str's kind must be its widest character's (ASCII or Latin-1) */
    for (int w = 0; w < m->n; w++) {
        size += m->hi[w] - m->lo[w];
        for (Py_ssize_t i = m->lo[w]; i < m->hi[w]; i++)
            if (at(&x->t, i) > widest) widest = at(&x->t, i);
    }
    PyObject *norm = PyUnicode_New(size, widest > 0x7F ? 0xFF : 0x7F);
    if (norm == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(norm);
    for (int w = 0; w < m->n; w++) {
        if (w) *out++ = ' ';
        for (Py_ssize_t i = m->lo[w]; i < m->hi[w]; i++) *out++ = lower1(at(&x->t, i));
    }
    PyObject *fields[4] = {PyLong_FromSsize_t(m->start), NULL, NULL, norm};
    fields[1] = fields[0] == NULL ? NULL : PyLong_FromSsize_t(m->end);
    fields[2] = fields[1] == NULL ? NULL : PyFloat_FromDouble(m->conf);
    return hot_row((PyTypeObject *)x->row, fields, 4);
}

/* name_row's normalized form as UTF-8 into `out` (Latin-1 words: at most two bytes a
 * character); its length, or -1 where it does not fit. */
static Py_ssize_t name_utf8(const names_t *x, const named_t *m, char *out, Py_ssize_t room) {
    Py_ssize_t k = 0;
    for (int w = 0; w < m->n; w++) {
        if (w) {
            if (k + 1 > room) return -1;
            out[k++] = ' ';
        }
        for (Py_ssize_t i = m->lo[w]; i < m->hi[w]; i++) {
            Py_UCS1 c = lower1(at(&x->t, i));
            if (k + 2 > room) return -1;
            if (c < 0x80) {
                out[k++] = (char)c;
            } else {
                out[k++] = (char)(0xC0 | c >> 6);
                out[k++] = (char)(0x80 | (c & 0x3F));
            }
        }
    }
    return k;
}

/* names._match: the name a run of `count` words makes into `out`: 1, 0 for none, -1 on error. */
static int decide(const names_t *x, const Py_ssize_t lo[3], const Py_ssize_t hi[3], int count,
                  named_t *out) {
    static const int in_order[3] = {0, 1, 2};
    Py_ssize_t s = lo[0];
    int cue = cue_before(x, s > 40 ? s - 40 : 0, s);
    if (cue < 0) return -1;
    if (cue) {
        named(out, s, hi[count - 1], 0.85, lo, hi, in_order, count);
        return 1;
    }
    int first = holds(x, x->first, lo[0], hi[0]);
    if (first <= 0) return first;
    if (count == 3) {
        int second_first = holds(x, x->first, lo[1], hi[1]);
        if (second_first < 0) return -1;
        if (second_first) {
            int third = surname_like(x, lo[2], hi[2]);
            if (third < 0) return -1;
            if (third) {
                named(out, s, hi[2], 0.9, lo, hi, in_order, 3);
                return 1;
            }
        }
    }
    int second = surname_like(x, lo[1], hi[1]);
    if (second <= 0) return second;
    int n = 2;
    if (count == 3) {
        int third = surname_like(x, lo[2], hi[2]);
        if (third < 0) return -1;
        n = third ? 3 : 2;
    }
    int known = holds(x, x->surnames, lo[1], hi[1]);
    if (known < 0) return -1;
    named(out, s, hi[n - 1], known ? 0.85 : 0.7, lo, hi, in_order, n);
    return 1;
}

static int start_here(const text_t *t, Py_ssize_t s) { /* a capital nothing glued precedes */
    return is_upper(at(t, s)) && !glued(t, s - 1);
}

/* is_upper of a 1-byte character. */
static const unsigned char UPPER1[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, [0xC5] = 1, [0xC4] = 1, [0xD6] = 1, [0xC9] = 1, [0xDC] = 1,
};

/* The first s' >= s where a name may start (`start_here`), or the text's length. Most of a
 * text is lower case: 1-byte text (ASCII and Latin-1, nearly all text) is skipped by a table,
 * where a call per character with PyUnicode_READ's switch was a third of the names' time. */
static Py_ssize_t next_start(const text_t *t, Py_ssize_t s) {
    if (t->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = (const Py_UCS1 *)t->data;
#ifdef __SSE2__
        /* 16 characters at a time: only A-Z and bytes from 0xC4 (the Latin-1 capitals of the
         * table lie there) are looked at. The scalar loop was 2 % of a full scan's CPU. */
        const __m128i a = _mm_set1_epi8('A'), span = _mm_set1_epi8(25);
        const __m128i high = _mm_set1_epi8((char)0xC4);
        for (; s + 16 <= t->n; s += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(d + s));
            __m128i from_a = _mm_sub_epi8(x, a); /* A-Z -> 0-25, unsigned */
            __m128i capital = _mm_cmpeq_epi8(_mm_min_epu8(from_a, span), from_a);
            __m128i top = _mm_cmpeq_epi8(_mm_max_epu8(x, high), x);
            unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(capital, top));
            for (; mask; mask &= mask - 1) {
                Py_ssize_t i = s + __builtin_ctz(mask);
                if (UPPER1[d[i]] && !glued(t, i - 1)) return i;
            }
        }
#endif
        for (; s < t->n; s++)
            if (UPPER1[d[s]] && !glued(t, s - 1)) return s;
        return t->n;
    }
    for (; s < t->n; s++)
        if (start_here(t, s)) return s;
    return t->n;
}

/* The names found in order of their start, in a vector. */
typedef struct {
    named_t *v;
    Py_ssize_t n, cap;
} found_t;

static int found_push(found_t *f, const named_t *m) {
    if (f->n == f->cap) {
        Py_ssize_t cap = f->cap ? 2 * f->cap : 256;
        named_t *grown = PyMem_Realloc(f->v, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        f->v = grown;
        f->cap = cap;
    }
    f->v[f->n++] = *m;
    return 0;
}

static int by_start(const void *a, const void *b) {
    Py_ssize_t x = ((const named_t *)a)->start, y = ((const named_t *)b)->start;
    return (x > y) - (x < y);
}

/* Parse find_names's arguments (text, first, surnames, not_surnames, endings, cue) into `x`;
 * -1 with an error. `row` is set by the caller. */
static int names_setup(names_t *x, PyObject *const *args) {
    glued1_init();
    if (PyUnicode_READY(args[0]) < 0) return -1; /* a legacy string, made canonical */
    *x = (names_t){{PyUnicode_KIND(args[0]), PyUnicode_DATA(args[0]), PyUnicode_GET_LENGTH(args[0])},
                   args[0], args[1], args[2], args[3], args[5], NULL};
    Py_ssize_t count = PyTuple_GET_SIZE(args[4]);
    if (count > 64) {
        PyErr_SetString(PyExc_ValueError, "at most 64 endings");
        return -1;
    }
    for (Py_ssize_t e = 0; e < count; e++) {
        PyObject *ending = PyTuple_GET_ITEM(args[4], e);
        Py_ssize_t len;
        const char *latin = NULL;
        PyObject *bytes = PyUnicode_Check(ending) ? PyUnicode_AsLatin1String(ending) : NULL;
        if (bytes != NULL) {
            latin = PyBytes_AS_STRING(bytes);
            len = PyBytes_GET_SIZE(bytes);
        }
        if (bytes == NULL || len == 0 || len > 15) {
            Py_XDECREF(bytes);
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "endings are Latin-1 str of 1-15 characters");
            return -1;
        }
        memcpy(x->endings[e], latin, (size_t)len);
        x->ending_len[e] = len;
        Py_DECREF(bytes);
    }
    x->nendings = (int)count;
    return 0;
}

/* find_names's two loops in one pass: every name of `x`'s text into `out`, sorted by start.
 *
 * The first loop takes runs of two or three words, the second `Surname, Firstname` where no
 * name of the first loop covers it; each goes on from its own place (`run_from`, `inverted_
 * from`) among the same starts, in order, so the text's starts are found (and its words read)
 * once, not twice (5.25 -> 5.14 ns a character on the mixed bench's CSV tables). At a start,
 * the first loop's names that begin at or before it are all found by then (the last is the
 * one to be inside of). */
static int collect(const names_t *x, found_t *out) {
    const text_t *t = &x->t;
    Py_ssize_t lo[3], hi[3], ilo[2], ihi[2];
    Py_ssize_t run_from = 0, inverted_from = 0;
    named_t m;
    found_t flipped = {NULL, 0, 0};
    static const int surname_first[2] = {1, 0};
    for (Py_ssize_t s = next_start(t, 0); s < t->n; s = next_start(t, s + 1)) {
        if (s >= run_from) { /* find_names's first loop */
            int words = name_run(t, s, lo, hi);
            if (words) {
                int got = decide(x, lo, hi, words, &m);
                if (got < 0) goto fail;
                if (!got) {
                    run_from = hi[0]; /* on from the first word's end */
                } else {
                    if (found_push(out, &m) < 0) goto fail;
                    run_from = m.end;
                }
            }
        }
        if (s >= inverted_from && inverted(t, s, ilo, ihi)) { /* not inside a name */
            int inside = out->n > 0 && s < out->v[out->n - 1].end;
            int surname = holds(x, x->surnames, ilo[0], ihi[0]);
            int first = surname > 0 ? holds(x, x->first, ilo[1], ihi[1]) : 0;
            if (surname < 0 || first < 0 || PyErr_Occurred()) goto fail;
            if (surname && first && !inside) {
                named(&m, s, ihi[1], 0.8, ilo, ihi, surname_first, 2);
                if (found_push(&flipped, &m) < 0) goto fail;
            }
            inverted_from = ihi[1]; /* finditer: on from the match's end */
        }
    }
    for (Py_ssize_t i = 0; i < flipped.n; i++)
        if (found_push(out, &flipped.v[i]) < 0) goto fail;
    PyMem_Free(flipped.v);
    /* Starts are distinct (an inverted name never starts where a name does): sorting by start
     * is find_names's sort. */
    qsort(out->v, (size_t)out->n, sizeof *out->v, by_start);
    return 0;
fail:
    PyMem_Free(flipped.v);
    return -1;
}

static int names_args_ok(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want) {
    return nargs == want && PyUnicode_Check(args[0]) && PyAnySet_Check(args[1]) &&
           PyAnySet_Check(args[2]) && PyAnySet_Check(args[3]) && PyTuple_Check(args[4]);
}

PyObject *hot_find_names(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!names_args_ok(args, nargs, 7) || !PyType_Check(args[6]) ||
        !PyType_IsSubtype((PyTypeObject *)args[6], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError,
                        "find_names(text, first, surnames, not_surnames, endings, cue, row)");
        return NULL;
    }
    names_t x;
    if (names_setup(&x, args) < 0) return NULL;
    x.row = args[6];
    found_t found = {NULL, 0, 0};
    PyObject *rows = NULL;
    if (collect(&x, &found) == 0 && (rows = PyList_New(found.n)) != NULL) {
        for (Py_ssize_t i = 0; i < found.n; i++) {
            PyObject *row = name_row(&x, &found.v[i]);
            if (row == NULL) {
                Py_CLEAR(rows);
                break;
            }
            PyList_SET_ITEM(rows, i, row);
        }
    }
    PyMem_Free(found.v);
    return rows;
}

/* find_name_records(text, first, surnames, not_surnames, endings, cue, index, floor, inner,
 * outer) -> bytes: the names of at least `floor` as records (scanners.records) of category
 * `index`, in text order, each with the HMAC of its normalized form's UTF-8 from the key's
 * midstates: names._name_records's answer with no row and no str a name. */
PyObject *hot_find_name_records(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!names_args_ok(args, nargs, 10)) {
        PyErr_SetString(PyExc_TypeError,
                        "find_name_records(text, first, surnames, not_surnames, endings, cue, "
                        "index, floor, inner, outer)");
        return NULL;
    }
    long index = PyLong_AsLong(args[6]);
    double floor = PyFloat_AsDouble(args[7]);
    if ((index == -1 || floor == -1.0) && PyErr_Occurred()) return NULL;
    if (index < 0 || index > 255) {
        PyErr_SetString(PyExc_ValueError, "category indexes are 0-255");
        return NULL;
    }
    uint32_t hi[8], ho[8];
    if (hot_state_from(args[8], hi) < 0 || hot_state_from(args[9], ho) < 0) return NULL;
    names_t x;
    if (names_setup(&x, args) < 0) return NULL;
    found_t found = {NULL, 0, 0};
    PyObject *result = NULL;
    char *norm = NULL;
    if (collect(&x, &found) < 0) goto done;
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < found.n; i++) kept += found.v[i].conf >= floor;
    result = PyBytes_FromStringAndSize(NULL, kept * 32);
    if (result == NULL) goto done;
    unsigned char *r = (unsigned char *)PyBytes_AS_STRING(result);
    digests_t digests = {0};
    Py_ssize_t made = 0;
    for (Py_ssize_t i = 0; i < found.n; i++) {
        const named_t *m = &found.v[i];
        if (!(m->conf >= floor)) continue;
        Py_ssize_t room = 2;
        for (int w = 0; w < m->n; w++) room += 2 * (m->hi[w] - m->lo[w]) + 1;
        char small[512];
        char *buf = small;
        if (room > (Py_ssize_t)sizeof small) {
            PyMem_Free(norm);
            if ((norm = PyMem_Malloc((size_t)room)) == NULL) {
                PyErr_NoMemory();
                Py_CLEAR(result);
                goto done;
            }
            buf = norm;
        }
        Py_ssize_t len = name_utf8(&x, m, buf, room);
        hot_record_at(&digests, r, made++, m->start, m->end - m->start, (int)index, hi, ho, buf,
                      len);
    }
    hot_records_done(&digests, r, hi, ho);
done:
    PyMem_Free(norm);
    PyMem_Free(found.v);
    return result;
}
