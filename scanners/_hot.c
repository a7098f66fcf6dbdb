/* The raw fast path's hottest work in C, in sections: Luhn, the personnummer date and checksum,
 * IBAN mod 97 and the keyed digest (HMAC-SHA256); the context words and the text check around a
 * candidate; the stretches of a page where values can stand, and their joining; where
 * compressed streams may start. Each one gives exactly what its pure-Python twin (in
 * scanners/identifiers, scanners/findings, scanners/context, scanners/engines/hyperscan and
 * scanners/inflate) gives, and tests compare both; `scanners.hot` picks one. Whole candidate
 * confirmations (personnummer forms, e-mail and IPv4 addresses, phone numbers) and the order of
 * a page's candidates are in _confirm.c, built into the same module; _hot.h names what the two
 * files share.
 *
 * Built by setup.py as an optional extension: without a C compiler the package still installs
 * and runs the Python code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_hot.h"

enum { CATEGORIES_MAX = 16 }; /* confirm_all's table of wanted categories */

/* ---- Luhn ------------------------------------------------------------------------------- */

static int luhn_ok(const char *s, Py_ssize_t n) {
    static const int doubled[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    int total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        total += (i & 1) ? doubled[d] : d;
    }
    return total % 10 == 0;
}

int hot_luhn(const char *s, Py_ssize_t n) { return luhn_ok(s, n); }

/* Only ASCII digits reach these functions: anything else returns the "not valid" answer. */
static const char *ascii_digits(PyObject *s, Py_ssize_t *n) {
    if (!PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s)) return NULL;
    const char *p = (const char *)PyUnicode_DATA(s);
    *n = PyUnicode_GET_LENGTH(s);
    for (Py_ssize_t i = 0; i < *n; i++)
        if (p[i] < '0' || p[i] > '9') return NULL;
    return p;
}

static PyObject *py_luhn_valid(PyObject *self, PyObject *arg) {
    Py_ssize_t n;
    const char *p = ascii_digits(arg, &n);
    if (p == NULL) {
        if (PyErr_Occurred()) return NULL;
        PyErr_SetString(PyExc_ValueError, "luhn_valid takes ASCII digits only");
        return NULL;
    }
    return PyBool_FromLong(luhn_ok(p, n));
}

/* ---- personnummer ----------------------------------------------------------------------- */

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static int is_leap(long y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

/* pnr_fields(value, today) -> (year, month * 100 + day, body) | None; today is YYYYMMDD. The
 * rules of personnummer._fields: five written forms, a date that exists (day + 60 for a
 * samordningsnummer), serial not 000, Luhn over the ten digits, not born after today. */
int hot_pnr_fields(const char *v, Py_ssize_t n, long today, long *year_out,
                   int *month_day_out, char body[10]) {
    const char *cent = NULL;
    char sep = 0;
    int has_sep = 0;
    switch (n) {
    case 10: memcpy(body, v, 10); break;
    case 11: has_sep = 1; sep = v[6]; memcpy(body, v, 6); memcpy(body + 6, v + 7, 4); break;
    case 12: cent = v; memcpy(body, v + 2, 10); break;
    case 13:
        cent = v; has_sep = 1; sep = v[8];
        memcpy(body, v + 2, 6); memcpy(body + 6, v + 9, 4);
        break;
    default: return 0;
    }
    if (has_sep && sep != '-' && sep != '+') return 0;
    for (int i = 0; i < 10; i++)
        if (body[i] < '0' || body[i] > '9') return 0;
    if (cent && (cent[0] < '0' || cent[0] > '9' || cent[1] < '0' || cent[1] > '9')) return 0;
    static const int days_in[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = two(body + 2), day = two(body + 4);
    if (day > 60) day -= 60;
    if (month < 1 || month > 12 || day < 1 || day > days_in[month]) return 0;
    if (body[6] == '0' && body[7] == '0' && body[8] == '0') return 0;
    if (!luhn_ok(body, 10)) return 0;
    long yy = two(body), year;
    if (cent) {
        int c = two(cent);
        if (c < 18 || c > 20) return 0;
        year = c * 100 + yy;
    } else {
        long base = today / 10000 - (sep == '+' ? 100 : 0);
        long back = (base - yy) % 100;
        if (back < 0) back += 100;
        year = base - back;
    }
    int month_day = month * 100 + day;
    if (month_day == 229 && !is_leap(year)) return 0;
    if (year * 10000 + month_day > today) return 0;
    *year_out = year;
    *month_day_out = month_day;
    return 1;
}

static PyObject *py_pnr_fields(PyObject *self, PyObject *args) {
    PyObject *value;
    long today, year;
    int month_day;
    char body[10];
    if (!PyArg_ParseTuple(args, "Ul", &value, &today)) return NULL;
    if (!PyUnicode_IS_ASCII(value)) Py_RETURN_NONE;
    if (!hot_pnr_fields((const char *)PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value), today,
                        &year, &month_day, body))
        Py_RETURN_NONE;
    return Py_BuildValue("(lis#)", year, month_day, body, (Py_ssize_t)10);
}

/* ---- IBAN mod 97-10 --------------------------------------------------------------------- */

/* iban_mod97(number) -> the ISO 7064 remainder of number[4:] + number[:4], letters A=10..Z=35;
 * -1 when a character is neither an ASCII digit nor an upper-case letter. */
static PyObject *py_iban_mod97(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) return PyLong_FromLong(-1);
    const char *v = (const char *)PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    if (n < 4) return PyLong_FromLong(-1);
    long r = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        char c = v[(k + 4) % n];
        if (c >= '0' && c <= '9') r = (r * 10 + (c - '0')) % 97;
        else if (c >= 'A' && c <= 'Z') r = (r * 100 + (c - 'A' + 10)) % 97;
        else return PyLong_FromLong(-1);
    }
    return PyLong_FromLong(r);
}

/* ---- SHA-256 and HMAC ------------------------------------------------------------------- */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t h[8], const unsigned char b[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* A SHA-256 state's eight words as its 32 bytes (big-endian). */
static void words_out(const uint32_t h[8], unsigned char out[32]) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24); out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8); out[4 * i + 3] = (unsigned char)h[i];
    }
}

#ifdef HAVE_OPENSSL
/* OpenSSL's SHA-256 uses the CPU's SHA instructions where it has them: several times faster than
 * the portable rounds above. Its context is public, so it can start from a midstate. */
#include <openssl/sha.h>

static void finish(uint32_t h[8], uint64_t done, const unsigned char *data, size_t n,
                   unsigned char out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    for (int i = 0; i < 8; i++) c.h[i] = h[i];
    c.Nl = (SHA_LONG)((done * 8) & 0xffffffffu);
    c.Nh = (SHA_LONG)((done * 8) >> 32);
    SHA256_Update(&c, data, n);
    SHA256_Final(out, &c);
}
#else
/* SHA-256 of `data`, continuing from state `h` that has already consumed `done` bytes (a whole
 * number of 64-byte blocks). */
static void finish(uint32_t h[8], uint64_t done, const unsigned char *data, size_t n,
                   unsigned char out[32]) {
    uint64_t bits = (done + n) * 8;
    while (n >= 64) { compress(h, data); data += 64; n -= 64; }
    unsigned char tail[128] = {0};
    memcpy(tail, data, n);
    tail[n] = 0x80;
    size_t len = n + 9 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++) tail[len - 1 - i] = (unsigned char)(bits >> (8 * i));
    compress(h, tail);
    if (len == 128) compress(h, tail + 64);
    words_out(h, out);
}
#endif

static int state_from(PyObject *obj, uint32_t h[8]) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) return -1;
    if (view.len != 32) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "a SHA-256 state is 32 bytes");
        return -1;
    }
    const unsigned char *b = view.buf;
    for (int i = 0; i < 8; i++)
        h[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    PyBuffer_Release(&view);
    return 0;
}

int hot_state_from(PyObject *obj, uint32_t h[8]) { return state_from(obj, h); }

/* sha256_midstate(block) -> the 32-byte state after compressing one 64-byte block. */
static PyObject *py_sha256_midstate(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len != 64) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "a SHA-256 block is 64 bytes");
        return NULL;
    }
    uint32_t h[8];
    memcpy(h, H0, sizeof h);
    compress(h, view.buf);
    PyBuffer_Release(&view);
    unsigned char out[32];
    words_out(h, out);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

/* hmac_hex(inner, outer, text) -> hex HMAC-SHA256 of text's UTF-8, from the midstates of the
 * key's inner and outer pads (computed once per key). */
static PyObject *hmac_hex_of(const uint32_t hi[8], const uint32_t ho[8], PyObject *text);

static PyObject *py_hmac_hex(PyObject *self, PyObject *args) {
    PyObject *inner_obj, *outer_obj, *text;
    if (!PyArg_ParseTuple(args, "OOU", &inner_obj, &outer_obj, &text)) return NULL;
    uint32_t hi[8], ho[8];
    if (state_from(inner_obj, hi) < 0 || state_from(outer_obj, ho) < 0) return NULL;
    return hmac_hex_of(hi, ho, text);
}

static PyObject *hmac_hex_of_bytes(const uint32_t inner[8], const uint32_t outer[8],
                                   const char *msg, Py_ssize_t n);

static PyObject *hmac_hex_of(const uint32_t inner[8], const uint32_t outer[8], PyObject *text) {
    Py_ssize_t n;
    const char *msg = PyUnicode_AsUTF8AndSize(text, &n);
    if (msg == NULL) return NULL;
    return hmac_hex_of_bytes(inner, outer, msg, n);
}

/* The HMAC-SHA256 of `n` bytes at `msg` into `out`, from the pads' midstates. */
static void hmac_raw(const uint32_t inner[8], const uint32_t outer[8], const char *msg,
                     Py_ssize_t n, unsigned char out[32]) {
    uint32_t hi[8], ho[8]; /* finish() works on the states: copies, the key's stay as they are */
    memcpy(hi, inner, sizeof hi);
    memcpy(ho, outer, sizeof ho);
    unsigned char mid[32];
    finish(hi, 64, (const unsigned char *)msg, (size_t)n, mid);
    finish(ho, 64, mid, 32, out);
}

/* ---- Two HMACs at once ------------------------------------------------------------------ */
/* A value's keyed digest is two SHA-256 blocks (from the key's pad midstates), each 64 rounds
 * whose instructions wait on one another: OpenSSL's code for one value took 104-113 ns, two
 * values' rounds interleaved here 73 ns a value. Records (`hot_record_at`) therefore keep one
 * short value waiting for the next. Where the CPU lacks the SHA instructions (or the compiler
 * the intrinsics), every digest is OpenSSL's (or the portable rounds'), as before. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* One block each into states a and b (eight host-order words each): two hashes' rounds
 * interleaved, since each SHA round instruction waits for the one before it. */
SHA_TARGET static void compress_x2(uint32_t a[8], const unsigned char *ba, uint32_t b[8],
                                   const unsigned char *bb) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t, s0a, s1a, s0b, s1b;
    t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)a), 0xB1);
    s1a = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(a + 4)), 0x1B);
    s0a = _mm_alignr_epi8(t, s1a, 8);
    s1a = _mm_blend_epi16(s1a, t, 0xF0);
    t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)b), 0xB1);
    s1b = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(b + 4)), 0x1B);
    s0b = _mm_alignr_epi8(t, s1b, 8);
    s1b = _mm_blend_epi16(s1b, t, 0xF0);
    const __m128i save0a = s0a, save1a = s1a, save0b = s0b, save1b = s1b;
    __m128i ma[4], mb[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        if (g < 4) {
            ma[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(ba + 16 * g)), mask);
            mb[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(bb + 16 * g)), mask);
        } else {
            ma[g % 4] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(ma[g % 4], ma[(g - 3) % 4]),
                              _mm_alignr_epi8(ma[(g - 1) % 4], ma[(g - 2) % 4], 4)),
                ma[(g - 1) % 4]);
            mb[g % 4] = _mm_sha256msg2_epu32(
                _mm_add_epi32(_mm_sha256msg1_epu32(mb[g % 4], mb[(g - 3) % 4]),
                              _mm_alignr_epi8(mb[(g - 1) % 4], mb[(g - 2) % 4], 4)),
                mb[(g - 1) % 4]);
        }
        const __m128i k = _mm_loadu_si128((const __m128i *)(K + 4 * g));
        __m128i wa = _mm_add_epi32(ma[g % 4], k), wb = _mm_add_epi32(mb[g % 4], k);
        s1a = _mm_sha256rnds2_epu32(s1a, s0a, wa);
        s1b = _mm_sha256rnds2_epu32(s1b, s0b, wb);
        s0a = _mm_sha256rnds2_epu32(s0a, s1a, _mm_shuffle_epi32(wa, 0x0E));
        s0b = _mm_sha256rnds2_epu32(s0b, s1b, _mm_shuffle_epi32(wb, 0x0E));
    }
    s0a = _mm_add_epi32(s0a, save0a);
    s1a = _mm_add_epi32(s1a, save1a);
    s0b = _mm_add_epi32(s0b, save0b);
    s1b = _mm_add_epi32(s1b, save1b);
    t = _mm_shuffle_epi32(s0a, 0x1B);
    s1a = _mm_shuffle_epi32(s1a, 0xB1);
    _mm_storeu_si128((__m128i *)a, _mm_blend_epi16(t, s1a, 0xF0));
    _mm_storeu_si128((__m128i *)(a + 4), _mm_alignr_epi8(s1a, t, 8));
    t = _mm_shuffle_epi32(s0b, 0x1B);
    s1b = _mm_shuffle_epi32(s1b, 0xB1);
    _mm_storeu_si128((__m128i *)b, _mm_blend_epi16(t, s1b, 0xF0));
    _mm_storeu_si128((__m128i *)(b + 4), _mm_alignr_epi8(s1b, t, 8));
}

/* The last block of a message of `n` <= 55 bytes after `done` bytes already hashed. */
static void last_block(unsigned char blk[64], const unsigned char *msg, size_t n, uint64_t done) {
    memcpy(blk, msg, n);
    blk[n] = 0x80;
    memset(blk + n + 1, 0, 64 - 8 - n - 1);
    uint64_t bits = (done + n) * 8;
    for (int i = 0; i < 8; i++) blk[63 - i] = (unsigned char)(bits >> (8 * i));
}

/* HMAC-SHA256 of two messages of at most 55 bytes each, from the key's pad midstates. */
static void hmac_pair(const uint32_t inner[8], const uint32_t outer[8], const unsigned char *m1,
                      size_t n1, const unsigned char *m2, size_t n2, unsigned char out1[32],
                      unsigned char out2[32]) {
    uint32_t a[8], b[8];
    unsigned char ba[64], bb[64];
    memcpy(a, inner, sizeof a);
    memcpy(b, inner, sizeof b);
    last_block(ba, m1, n1, 64);
    last_block(bb, m2, n2, 64);
    compress_x2(a, ba, b, bb);
    unsigned char da[32], db[32];
    words_out(a, da);
    words_out(b, db);
    memcpy(a, outer, sizeof a);
    memcpy(b, outer, sizeof b);
    last_block(ba, da, 32, 64);
    last_block(bb, db, 32, 64);
    compress_x2(a, ba, b, bb);
    words_out(a, out1);
    words_out(b, out2);
}

static int sha_pairs(void) {
    static int known = -1;
    if (known < 0) {
        unsigned a, b, c, d;
        int sse = __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1) && (c >> 9 & 1);
        known = sse && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
    }
    return known;
}
#else
static int sha_pairs(void) { return 0; }
static void hmac_pair(const uint32_t inner[8], const uint32_t outer[8], const unsigned char *m1,
                      size_t n1, const unsigned char *m2, size_t n2, unsigned char out1[32],
                      unsigned char out2[32]) {
    hmac_raw(inner, outer, (const char *)m1, (Py_ssize_t)n1, out1);
    hmac_raw(inner, outer, (const char *)m2, (Py_ssize_t)n2, out2);
}
#endif

/* pairs_enabled(on) -> whether records paired digests before; for the tests of both ways. */
static int pairs_off = 0;

static PyObject *py_pairs_enabled(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    int was = !pairs_off && sha_pairs();
    pairs_off = !on;
    return PyBool_FromLong(was);
}

enum { PAIRED_MAX = (int)sizeof(((digests_t *)0)->msg) };

void hot_record_at(digests_t *d, unsigned char *base, Py_ssize_t at, Py_ssize_t offset,
                   Py_ssize_t length, int index, const uint32_t hi[8], const uint32_t ho[8],
                   const char *msg, Py_ssize_t n) {
    unsigned char *r = base + at * 32;
    int64_t where = (int64_t)offset;
    uint32_t len = (uint32_t)length;
    memcpy(r, &where, 8);
    memcpy(r + 8, &len, 4);
    r[12] = (unsigned char)index;
    r[13] = r[14] = r[15] = 0;
    unsigned char digest[32];
    if (n <= PAIRED_MAX && !pairs_off && sha_pairs()) {
        if (!d->waiting) {
            memcpy(d->msg, msg, (size_t)n);
            d->n = (size_t)n;
            d->waiting = at + 1;
            return;
        }
        unsigned char first[32];
        hmac_pair(hi, ho, d->msg, d->n, (const unsigned char *)msg, (size_t)n, first, digest);
        memcpy(base + (d->waiting - 1) * 32 + 16, first, 16);
        d->waiting = 0;
    } else {
        hmac_raw(hi, ho, msg, n, digest);
    }
    memcpy(r + 16, digest, 16);
}

void hot_records_done(digests_t *d, unsigned char *base, const uint32_t hi[8],
                      const uint32_t ho[8]) {
    if (!d->waiting) return;
    unsigned char digest[32];
    hmac_raw(hi, ho, (const char *)d->msg, (Py_ssize_t)d->n, digest);
    memcpy(base + (d->waiting - 1) * 32 + 16, digest, 16);
    d->waiting = 0;
}

/* The same of a text's UTF-8 bytes. */
static PyObject *hmac_hex_of_bytes(const uint32_t inner[8], const uint32_t outer[8],
                                   const char *msg, Py_ssize_t n) {
    unsigned char out[32];
    hmac_raw(inner, outer, msg, n, out);
    static const char hexd[] = "0123456789abcdef";
    /* written straight into an ASCII string: no UTF-8 decoding of the 64 characters */
    PyObject *hex = PyUnicode_New(64, 127);
    if (hex == NULL) return NULL;
    Py_UCS1 *chars = PyUnicode_1BYTE_DATA(hex);
    for (int i = 0; i < 32; i++) {
        chars[2 * i] = (Py_UCS1)hexd[out[i] >> 4];
        chars[2 * i + 1] = (Py_UCS1)hexd[out[i] & 15];
    }
    return hex;
}

/* ---- context words ---------------------------------------------------------------------
 *
 * keywords_in(table, window, clause=0) -> whether one of the table's words stands in `window` as
 * scanners.context's patterns find them: the window lower-cased, the character before the word
 * (a space before the window's start) not a-z, 0-9 or åäöéü, the one after it not a-z or
 * åäöéü. The table (built by scanners.context._table) is 256 first-character slots of two
 * uint16 (first entry, count), a 32-byte bitmap of the first characters that have entries,
 * then 64-byte entries: length, then the word's Latin-1 bytes. None for a window beyond
 * Latin-1 (the regular expressions take it). Every rule looks for its words near every
 * candidate: about 2 us with the regular expression, 0.1 us here byte by byte, and with
 * AVX-512 the places where a word can start (a word's edge before it, a first character with
 * entries) come from masks of 64 bytes at once: a mail log's IP address (two windows of its
 * own words, one of reference words) has a handful such places in 96 bytes.
 * `clause` 1: only up to the window's first clause end; -1: only after its last. */
enum { TABLE_SLOTS = 1024, TABLE_FIRSTS = 32, TABLE_HEAD = TABLE_SLOTS + TABLE_FIRSTS,
       TABLE_ENTRY = 64 };
static int use_avx2, use_avx512; /* set at import (below) */

static inline Py_UCS1 lower1(Py_UCS1 c) {
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ? c + 0x20 : c;
}

static inline int word_letter(Py_UCS1 c) {  /* c lower-cased: a-z or åäöéü */
    return (c >= 'a' && c <= 'z') || c == 0xE5 || c == 0xE4 || c == 0xF6 || c == 0xE9 ||
           c == 0xFC;
}

static inline int clause_mark(Py_UCS1 c) { return c == '.' || c == ';' || c == '!' || c == '?'; }

/* Whether a table word stands at w[i] (lower-cased `first`): the entries of its first
 * character compared, and the character after the word not a letter (or the window's end). */
static int word_at(const unsigned char *t, Py_ssize_t table_len, const Py_UCS1 *w, Py_ssize_t n,
                   Py_ssize_t i, Py_UCS1 first) {
    unsigned start = t[4 * first] | t[4 * first + 1] << 8;
    unsigned count = t[4 * first + 2] | t[4 * first + 3] << 8;
    for (unsigned k = start; k < start + count; k++) {
        Py_ssize_t at = TABLE_HEAD + (Py_ssize_t)k * TABLE_ENTRY;
        if (at + TABLE_ENTRY > table_len) break;
        const unsigned char *word = t + at + 1;
        Py_ssize_t len = t[at];
        if (i + len > n) continue;
        Py_ssize_t j = 1;
        while (j < len && lower1(w[i + j]) == word[j]) j++;
        if (j == len && (i + len == n || !word_letter(lower1(w[i + len])))) return 1;
    }
    return 0;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* Bits i of w[0..n) (n <= 64) where a table word can start: the byte before (bit 63 of
 * `*carry` for i = 0: the previous block's last byte was a letter or digit) is no letter or
 * digit once lower-cased, and the first character's bit is set in `firsts` (the table's
 * bitmap). `*carry` learns this block's last byte. */
__attribute__((target("avx512bw"))) static uint64_t word_starts_avx512(
    const Py_UCS1 *w, Py_ssize_t n, const unsigned char firsts[32], uint64_t *carry) {
    const __mmask64 valid = n >= 64 ? ~0ULL : (1ULL << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(valid, w);
#define BYTES(c) _mm512_set1_epi8((char)(c))
#define IN(v, lo, span) _mm512_cmple_epu8_mask(_mm512_sub_epi8((v), BYTES(lo)), BYTES(span))
#define EQ(v, c) _mm512_cmpeq_epi8_mask((v), BYTES(c))
    __mmask64 upper = IN(x, 'A', 25) | (IN(x, 0xC0, 0x1E) & ~EQ(x, 0xD7));
    __m512i low = _mm512_mask_add_epi8(x, upper, x, BYTES(0x20));
    uint64_t wordish = IN(low, 'a', 25) | IN(low, '0', 9) | EQ(low, 0xE5) | EQ(low, 0xE4) |
                       EQ(low, 0xF6) | EQ(low, 0xE9) | EQ(low, 0xFC);
    uint64_t starts = ~((wordish << 1) | (*carry >> 63)) & valid;
    *carry = n >= 64 ? wordish : wordish << (64 - n);
    /* the bitmap's byte (low >> 3, two 16-byte halves) and the bit (low & 7) of each byte */
    __m512i index = _mm512_and_si512(_mm512_srli_epi16(low, 3), BYTES(0x1F));
    __m512i half0 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)firsts));
    __m512i half1 = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(firsts + 16)));
    __m512i byte = _mm512_mask_blend_epi8(_mm512_test_epi8_mask(index, BYTES(16)),
                                          _mm512_shuffle_epi8(half0, index),
                                          _mm512_shuffle_epi8(half1, index));
    __m512i bits = _mm512_broadcast_i32x4(
        _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)128, 1, 2, 4, 8, 16, 32, 64, (char)128));
    __m512i bit = _mm512_shuffle_epi8(bits, _mm512_and_si512(low, BYTES(7)));
#undef EQ
#undef IN
#undef BYTES
    return starts & _mm512_test_epi8_mask(byte, bit);
}

/* The clause ends of w[0..n) (n <= 64) as hot_keywords defines them: bit i where the first
 * clause ends before byte i (`first`: [.;!?] at i and a space after it, or a line end or tab
 * at i), and bit j where the last clause begins after byte j (a line end or tab at j, or a
 * space at j after [.;!?]). Spaces are str.isspace's Latin-1 ones. */
__attribute__((target("avx512bw"))) static void clause_ends_avx512(const Py_UCS1 *w,
                                                                    Py_ssize_t n,
                                                                    uint64_t *first,
                                                                    uint64_t *last) {
    const __mmask64 valid = n >= 64 ? ~0ULL : (1ULL << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(valid, w);
#define BYTES(c) _mm512_set1_epi8((char)(c))
#define IN(v, lo, span) _mm512_cmple_epu8_mask(_mm512_sub_epi8((v), BYTES(lo)), BYTES(span))
#define EQ(v, c) _mm512_cmpeq_epi8_mask((v), BYTES(c))
    uint64_t breaks = EQ(x, '\n') | EQ(x, '\t');
    uint64_t marks = EQ(x, '.') | EQ(x, ';') | EQ(x, '!') | EQ(x, '?');
    uint64_t spaces = (IN(x, 0x09, 4) | IN(x, 0x1C, 4) | EQ(x, 0x85) | EQ(x, 0xA0)) & valid; /* 09-0D, 1C-20 */
#undef EQ
#undef IN
#undef BYTES
    *first = breaks | (marks & (spaces >> 1));
    *last = breaks | (spaces & (marks << 1));
}
#endif

int hot_keywords(const unsigned char *t, Py_ssize_t table_len, const Py_UCS1 *w, Py_ssize_t n,
                 int clause) {
    Py_ssize_t from = 0;
    int found = 0;
    /* A clause ends at [.;!?] and a space, a line end or a tab (context._CLAUSE_END):
     * clause > 0 looks up to the first end, clause < 0 after the last. */
#if defined(__GNUC__) && defined(__x86_64__)
    if (use_avx512 && clause && n <= 64) {
        uint64_t first, last;
        clause_ends_avx512(w, n, &first, &last);
        if (clause > 0 && first) n = __builtin_ctzll(first);
        if (clause < 0 && last) from = 64 - __builtin_clzll(last);
        clause = 0;
    }
#endif
    if (clause > 0) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (w[i] == '\n' || w[i] == '\t' ||
                (clause_mark(w[i]) && i + 1 < n && Py_UNICODE_ISSPACE(w[i + 1]))) {
                n = i;
                break;
            }
    } else if (clause < 0) {
        for (Py_ssize_t j = n - 1; j >= 0; j--)
            if (w[j] == '\n' || w[j] == '\t' ||
                (j >= 1 && Py_UNICODE_ISSPACE(w[j]) && clause_mark(w[j - 1]))) {
                from = j + 1;
                break;
            }
    }
    if (table_len < TABLE_HEAD) return -1;
    const unsigned char *firsts = t + TABLE_SLOTS;
#if defined(__GNUC__) && defined(__x86_64__)
    if (use_avx512) {
        uint64_t carry = 0; /* a space before the window */
        for (Py_ssize_t base = from; base < n && !found; base += 64) {
            Py_ssize_t size = n - base < 64 ? n - base : 64;
            for (uint64_t r = word_starts_avx512(w + base, size, firsts, &carry); r && !found;
                 r &= r - 1) {
                Py_ssize_t i = base + __builtin_ctzll(r);
                found = word_at(t, table_len, w, n, i, lower1(w[i]));
            }
        }
        return found;
    }
#endif
    for (Py_ssize_t i = from; i < n && !found; i++) {
        Py_UCS1 before = i > from ? lower1(w[i - 1]) : ' ';
        if (word_letter(before) || (before >= '0' && before <= '9')) continue;
        Py_UCS1 first = lower1(w[i]);
        if (firsts[first >> 3] >> (first & 7) & 1) found = word_at(t, table_len, w, n, i, first);
    }
    return found;
}

static PyObject *py_keywords_in(PyObject *self, PyObject *args) {
    Py_buffer table;
    PyObject *window;
    int clause = 0;
    if (!PyArg_ParseTuple(args, "y*U|i", &table, &window, &clause)) return NULL;
    if (PyUnicode_READY(window) < 0 || PyUnicode_KIND(window) != PyUnicode_1BYTE_KIND) {
        PyBuffer_Release(&table);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    int found = hot_keywords(table.buf, table.len, PyUnicode_1BYTE_DATA(window),
                             PyUnicode_GET_LENGTH(window), clause);
    PyBuffer_Release(&table);
    if (found < 0) {
        PyErr_SetString(PyExc_ValueError, "not a keyword table");
        return NULL;
    }
    return PyBool_FromLong(found);
}

/* ---- bytes 0x7F-0xFF around a value --------------------------------------------------------
 *
 * high_letters(window) -> (runs, letters) for a str of Latin-1 characters (the raw path's view of
 * bytes), or None for any other str. `runs`: runs of one character 0x7F-0xFF (a run counts once);
 * `letters`: characters in UTF-8 sequences of two or three bytes, found left to right, that
 * decode to a letter. scanners.context counts the same with two regular expressions
 * (`_HIGH`, `_UTF8_SEQUENCE`) at about 3 us each per window; this runs once per e-mail, giro
 * and IP candidate. */
static int sequence_letter(const Py_UCS1 *p, Py_ssize_t n, Py_ssize_t i, Py_ssize_t *len) {
    Py_UCS1 a = p[i];
    Py_UCS4 ch;
    if (a >= 0xC2 && a <= 0xDF && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0xBF) {
        *len = 2;
        ch = (Py_UCS4)(a & 0x1F) << 6 | (p[i + 1] & 0x3F);
    } else if (a >= 0xE0 && a <= 0xEF && i + 2 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0xBF &&
               p[i + 2] >= 0x80 && p[i + 2] <= 0xBF) {
        *len = 3;
        ch = (Py_UCS4)(a & 0x0F) << 12 | (Py_UCS4)(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
        if (ch < 0x800 || (ch >= 0xD800 && ch <= 0xDFFF)) return 0; /* overlong, surrogate */
    } else {
        *len = 0;
        return 0;
    }
    return Py_UNICODE_ISALPHA(ch);
}

void hot_high_letters(const Py_UCS1 *p, Py_ssize_t n, Py_ssize_t *runs_out,
                      Py_ssize_t *letters_out) {
    Py_ssize_t runs = 0, letters = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] >= 0x7F && (i == 0 || p[i - 1] != p[i])) runs++;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t len;
        int letter = sequence_letter(p, n, i, &len);
        if (len) {
            if (letter) letters += len;
            i += len;
        } else {
            i++;
        }
    }
    *runs_out = runs;
    *letters_out = letters;
}

static PyObject *py_high_letters(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "high_letters() takes a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    if (PyUnicode_KIND(arg) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
    Py_ssize_t runs, letters;
    hot_high_letters(PyUnicode_1BYTE_DATA(arg), PyUnicode_GET_LENGTH(arg), &runs, &letters);
    return Py_BuildValue("(nn)", runs, letters);
}

/* ---- where 8-bit values can be ----------------------------------------------------------
 *
 * windows(buffer, margin, wide_margin)[0] -> sorted, merged [(lo, hi), ...]: the stretches of the buffer
 * outside which no 8-bit pattern of a kind that needs no keyword can match (see
 * scanners/engines/hyperscan.py for the proof and scanners/patterns.py for the patterns):
 * - every byte of a personnummer, card, phone, IBAN, VAT or IPv4 candidate is in class A
 *   (digits, capitals, space and + ( ) . -) and there are at least 7 of them, so it lies in a
 *   run of A of 7 or more bytes;
 * - an e-mail candidate is one local-part byte, '@', and a domain run with a dot and two more
 *   bytes after it;
 * - an IPv6 candidate is hex digits and colons with "::" or seven colons.
 * Each window is the whole run plus one byte on each side (the boundary the patterns check).
 * In random bytes such runs are rare, so hyperscan matches a few per cent of a page of media
 * instead of all of it. Class masks of 64 bytes at a time find the runs, by shifting and
 * and-ing the masks; only the runs found are walked byte by byte. */

enum { CLS_A = 1, CLS_DOMAIN = 2, CLS_HEX = 4, CLS_LOCAL = 8, CLS_N = 16, CLS_DOTTED = 32 };
static unsigned char cls[256];

static void init_classes(void) {
    for (int c = '0'; c <= '9'; c++) cls[c] |= CLS_A | CLS_DOMAIN | CLS_HEX | CLS_LOCAL;
    for (int c = 'A'; c <= 'Z'; c++) cls[c] |= CLS_A | CLS_DOMAIN | CLS_LOCAL;
    for (int c = 'a'; c <= 'z'; c++) cls[c] |= CLS_DOMAIN | CLS_LOCAL;
    for (int c = 'A'; c <= 'F'; c++) cls[c] |= CLS_HEX;
    for (int c = 'a'; c <= 'f'; c++) cls[c] |= CLS_HEX;
    for (int c = 0x80; c <= 0xff; c++) cls[c] |= CLS_DOMAIN | CLS_LOCAL;
    for (const char *q = " +().-"; *q; q++) cls[(unsigned char)*q] |= CLS_A;
    cls['.'] |= CLS_DOMAIN;
    cls['-'] |= CLS_DOMAIN | CLS_LOCAL;
    cls[':'] |= CLS_HEX;
    for (const char *q = "!#$%&'*+/=?^_`{|}~"; *q; q++) cls[(unsigned char)*q] |= CLS_LOCAL;
    for (const char *q = "0123456789 ()+-"; *q; q++) cls[(unsigned char)*q] |= CLS_N;
    for (const char *q = "0123456789."; *q; q++) cls[(unsigned char)*q] |= CLS_DOTTED;
}

typedef struct { Py_ssize_t lo, hi; } span_t;
typedef struct { span_t *v; Py_ssize_t n, cap; int failed; } spans_t;

/* `cap` of a list that is given up (`limit` below): pushes are dropped. */
#define GIVEN_UP (-1)

static void push(spans_t *s, Py_ssize_t lo, Py_ssize_t hi) {
    if (s->failed || s->cap == GIVEN_UP) return;
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 256;
        span_t *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (v == NULL) { s->failed = 1; return; }
        s->v = v; s->cap = cap;
    }
    s->v[s->n].lo = lo; s->v[s->n].hi = hi; s->n++;
}

/* One 64-byte block's class masks: bit j stands for byte j. SSE2 (every x86-64) compares 16
 * bytes at once; elsewhere the class table gives the same bits. */
typedef struct { uint64_t a, at, colon, digit, sep, zero, paren_plus, dot; } masks_t;

#if defined(__SSE2__)
#include <emmintrin.h>
static inline __m128i in_range(__m128i x, unsigned char lo, unsigned char hi) {
    __m128i t = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((char)(hi - lo))), t);
}
static inline __m128i is(__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); }

static inline masks_t block_masks(const unsigned char *p) {
    masks_t m = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i digit = in_range(x, '0', '9');
        __m128i upper = in_range(x, 'A', 'Z');
        /* space + ( ) . - : 0x20 0x2b 0x28 0x29 0x2e 0x2d */
        __m128i punct = _mm_or_si128(
            _mm_or_si128(is(x, ' '), is(x, '+')),
            _mm_or_si128(in_range(x, '(', ')'), in_range(x, '-', '.')));
        __m128i a = _mm_or_si128(_mm_or_si128(digit, upper), punct);
        int shift = 16 * k;
        m.a |= (uint64_t)(uint16_t)_mm_movemask_epi8(a) << shift;
        m.at |= (uint64_t)(uint16_t)_mm_movemask_epi8(is(x, '@')) << shift;
        m.colon |= (uint64_t)(uint16_t)_mm_movemask_epi8(is(x, ':')) << shift;
        m.digit |= (uint64_t)(uint16_t)_mm_movemask_epi8(digit) << shift;
        m.sep |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(is(x, '-'), is(x, ' ')))
                 << shift;
        m.zero |= (uint64_t)(uint16_t)_mm_movemask_epi8(is(x, 0)) << shift;
        m.paren_plus |=
            (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(in_range(x, '(', ')'), is(x, '+')))
            << shift;
        m.dot |= (uint64_t)(uint16_t)_mm_movemask_epi8(is(x, '.')) << shift;
    }
    return m;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
/* The same masks with AVX2: class A by its two nibbles (one table lookup each), 32 bytes at
 * a time. Bit k of a nibble table stands for high nibble 2 + k. */
__attribute__((target("avx2"))) static masks_t block_masks_avx2(const unsigned char *p) {
    const __m256i lo_table = _mm256_setr_epi8(
        0x0b, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0f, 0x0f, 0x0c, 0x05, 0x04, 0x05, 0x05, 0x04,
        0x0b, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0f, 0x0f, 0x0c, 0x05, 0x04, 0x05, 0x05, 0x04);
    const __m256i hi_table = _mm256_setr_epi8(
        0, 0, 1, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 1, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i low4 = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    masks_t m = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 0; k < 2; k++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(p + 32 * k));
        __m256i lo = _mm256_shuffle_epi8(lo_table, _mm256_and_si256(x, low4));
        __m256i hi = _mm256_shuffle_epi8(
            hi_table, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));
        __m256i none = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), zero);
        int shift = 32 * k;
        m.a |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(none) << shift;
        m.at |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                    _mm256_cmpeq_epi8(x, _mm256_set1_epi8('@'))) << shift;
        m.colon |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                       _mm256_cmpeq_epi8(x, _mm256_set1_epi8(':'))) << shift;
        __m256i t = _mm256_sub_epi8(x, _mm256_set1_epi8('0'));
        m.digit |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                       _mm256_cmpeq_epi8(_mm256_min_epu8(t, _mm256_set1_epi8(9)), t)) << shift;
        m.sep |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                     _mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('-')),
                                     _mm256_cmpeq_epi8(x, _mm256_set1_epi8(' ')))) << shift;
        m.zero |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, zero)) << shift;
        m.paren_plus |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
                            _mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('(')),
                                            _mm256_cmpeq_epi8(x, _mm256_set1_epi8(')'))),
                            _mm256_cmpeq_epi8(x, _mm256_set1_epi8('+')))) << shift;
        m.dot |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('.')))
                 << shift;
    }
    return m;
}

/* The same masks with AVX-512 (BW): all 64 bytes in one register, each mask straight from a
 * compare. */
static const unsigned char CLASS_A_LO[16] = {0x0b, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e, 0x0e,
                                             0x0f, 0x0f, 0x0c, 0x05, 0x04, 0x05, 0x05, 0x04};
static const unsigned char CLASS_A_HI[16] = {0, 0, 1, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

__attribute__((target("avx512bw"))) static masks_t block_masks_avx512(const unsigned char *p) {
    const __m512i lo_table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)CLASS_A_LO));
    const __m512i hi_table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)CLASS_A_HI));
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    __m512i x = _mm512_loadu_si512((const void *)p);
    __m512i lo = _mm512_shuffle_epi8(lo_table, _mm512_and_si512(x, low4));
    __m512i hi = _mm512_shuffle_epi8(hi_table, _mm512_and_si512(_mm512_srli_epi16(x, 4), low4));
    masks_t m;
    m.a = _mm512_test_epi8_mask(lo, hi);
    m.at = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('@'));
    m.colon = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(':'));
    m.digit = _mm512_cmple_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8('0')),
                                     _mm512_set1_epi8(9));
    m.sep = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-')) |
            _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' '));
    m.zero = _mm512_testn_epi8_mask(x, x);
    m.paren_plus = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('(')) |
                   _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(')')) |
                   _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('+'));
    m.dot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
    return m;
}
#endif
#else
static inline masks_t block_masks(const unsigned char *p) {
    masks_t m = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < 64; j++) {
        m.a |= (uint64_t)(cls[p[j]] & CLS_A ? 1 : 0) << j;
        m.at |= (uint64_t)(p[j] == '@') << j;
        m.colon |= (uint64_t)(p[j] == ':') << j;
        m.digit |= (uint64_t)(p[j] >= '0' && p[j] <= '9') << j;
        m.sep |= (uint64_t)(p[j] == '-' || p[j] == ' ') << j;
        m.zero |= (uint64_t)(p[j] == 0) << j;
        m.paren_plus |= (uint64_t)(p[j] == '(' || p[j] == ')' || p[j] == '+') << j;
        m.dot |= (uint64_t)(p[j] == '.') << j;
    }
    return m;
}
#endif

/* Bits j of the current block where a run of at least seven (five) set bits ends, counting
 * the previous block's bits (`prev`) before it: runs of 2, then 4, then 7 (5) by shifts. The
 * lengths are written out so the compiler keeps no loop (this runs for every 64 bytes). */
static inline uint64_t runs_of_7(uint64_t prev, uint64_t cur) {
    unsigned __int128 r = ((unsigned __int128)cur << 64) | prev;
    r &= r << 1;
    r &= r << 2;
    r &= r << 3;
    return (uint64_t)(r >> 64);
}

static inline uint64_t runs_of_5(uint64_t prev, uint64_t cur) {
    unsigned __int128 r = ((unsigned __int128)cur << 64) | prev;
    r &= r << 1;
    r &= r << 2;
    r &= r << 1;
    return (uint64_t)(r >> 64);
}

static inline uint64_t runs_of_10(uint64_t prev, uint64_t cur) {
    unsigned __int128 r = ((unsigned __int128)cur << 64) | prev;
    r &= r << 1;
    r &= r << 2;
    r &= r << 4;
    r &= r << 2;
    return (uint64_t)(r >> 64);
}

/* The whole run of `bit`'s class through byte `j`, with one byte either side, if it holds
 * `needed` bytes from `lo` to `hi` (0 to 255: a run of `needed` bytes or longer):
 * - class A and seven or twelve bytes: every keyword-free value (`find_windows`), and every
 *   IBAN's run (`quad_ends`);
 * - class N (digits, space and ( ) + -) and seven digits: every personnummer form, card number
 *   and phone number (national or international) is such a run with the boundary bytes its
 *   pattern checks, and holds at least seven digits (a test parses the patterns for it);
 * - digits and dots, and three dots: every IPv4 candidate (four groups of digits, three dots,
 *   then a byte that is no digit) is such a run with the byte after it. */
static void push_run_holding(const unsigned char *p, Py_ssize_t n, Py_ssize_t j,
                             unsigned char bit, unsigned char lo, unsigned char hi, int needed,
                             spans_t *out, Py_ssize_t *covered) {
    Py_ssize_t s = j, e = j + 1;
    while (s > 0 && (cls[p[s - 1]] & bit)) s--;
    while (e < n && (cls[p[e]] & bit)) e++;
    *covered = e;
    int held = 0;
    for (Py_ssize_t i = s; i < e && held < needed; i++) held += p[i] >= lo && p[i] <= hi;
    if (held == needed) push(out, s > 0 ? s - 1 : 0, e < n ? e + 1 : n);
}


/* The run of hex digits and colons through the colon at `j`, when it holds "::" or seven
 * colons (the IPv6 trigger: a "::", or eight groups). */
static void ipv6_at(const unsigned char *p, Py_ssize_t n, Py_ssize_t j, spans_t *out,
                    Py_ssize_t *covered) {
    Py_ssize_t s = j, e = j + 1;
    while (s > 0 && (cls[p[s - 1]] & CLS_HEX)) s--;
    while (e < n && (cls[p[e]] & CLS_HEX)) e++;
    int colons = 0, twice = 0;
    for (Py_ssize_t i = s; i < e; i++) {
        if (p[i] != ':') continue;
        colons++;
        twice |= i + 1 < e && p[i + 1] == ':';
    }
    if (twice || colons >= 7) push(out, s > 0 ? s - 1 : 0, e < n ? e + 1 : n);
    *covered = e;
}

static void email_at(const unsigned char *p, Py_ssize_t n, Py_ssize_t at, spans_t *out) {
    if (at == 0 || !(cls[p[at - 1]] & CLS_LOCAL)) return;
    Py_ssize_t e = at + 1, dot = -1;
    while (e < n && (cls[p[e]] & CLS_DOMAIN)) {
        if (p[e] == '.' && e >= at + 2 && dot < 0) dot = e;
        e++;
    }
    /* a dot with two bytes of the run after it (the first dot has the most): else no
     * top-level domain */
    if (dot >= 0 && e - dot >= 3) push(out, at - 1, e < n ? e + 1 : n);
}

/* Bits of `ends` whose byte lies before `covered` (inside a run already taken) cleared. */
static inline uint64_t after(uint64_t ends, Py_ssize_t base, Py_ssize_t covered) {
    if (covered <= base) return ends;
    if (covered - base >= 64) return 0;
    return ends & ~((1ULL << (covered - base)) - 1);
}

/* The widest SIMD the CPU (and OS) offers, chosen at import (declared above, with the context
 * words); ASSET_PIPELINE_NO_AVX512 and ASSET_PIPELINE_NO_AVX2 (which implies it) keep narrower
 * paths, so tests compare them all. */

/* ---- where UTF-16LE values can be --------------------------------------------------------
 *
 * windows(buffer, margin, wide_margin)[2]: every UTF-16 pattern's value is units of Latin-1
 * text (a character of a positive class, then a zero byte), three or more of them (the
 * shortest: a plusgiro "1-2", an IPv6 "a::"). So every UTF-16 match holds a run of three such
 * units, and lies within `wide_margin` bytes of the whole run through them (the caller allows
 * for a keyword, its gap and the value). Random and binary data hold such runs rarely; 8-bit
 * text never. */

/* Bits j of the current block where byte j is 0 and byte j - 1 is not: the end of a UTF-16LE
 * unit of Latin-1 text. */
static inline uint64_t unit_ends(uint64_t prev_zero, uint64_t zero) {
    return zero & ~((zero << 1) | (prev_zero >> 63));
}

/* Bits j where three units end at j, j - 2 and j - 4, counting the previous block's
 * bits: 64-bit shifts, as this runs for every block of every page. */
static inline uint64_t three_units(uint64_t prev, uint64_t cur) {
    return cur & ((cur << 2) | (prev >> 62)) & ((cur << 4) | (prev >> 60));
}

/* The whole run of Latin-1 UTF-16LE units through the unit ending at `j`, `margin` bytes
 * either side. */
static void wide_run_at(const unsigned char *p, Py_ssize_t n, Py_ssize_t j, Py_ssize_t margin,
                        spans_t *out, Py_ssize_t *covered) {
    Py_ssize_t s = j - 1, e = j + 1;
    while (s >= 2 && p[s - 1] == 0 && p[s - 2] != 0) s -= 2;
    while (e + 1 < n && p[e] != 0 && p[e + 1] == 0) e += 2;
    push(out, s > margin ? s - margin : 0, e + margin < n ? e + margin : n);
    *covered = e;
}

/* Bits j of the current block where byte j is a digit after a separator after a digit. */
static inline uint64_t digit_sep_digit(masks_t prev, masks_t m) {
    unsigned __int128 d = ((unsigned __int128)m.digit << 64) | prev.digit;
    unsigned __int128 s = ((unsigned __int128)m.sep << 64) | prev.sep;
    return (uint64_t)((d & (s << 1) & (d << 2)) >> 64);
}

/* Bits j of the current block where byte j is a digit after a digit after two bytes that may
 * be capitals (class A, neither digit nor space nor '-': the capitals and + ( ) .), counting
 * the previous block's bits: every IBAN begins with two capitals and two digits, and its
 * pattern (scanners.patterns, the trigger) spans twelve bytes or more of class A. */
static inline uint64_t quad_ends(masks_t prev, masks_t m) {
    unsigned __int128 x = ((unsigned __int128)(m.a & ~m.digit & ~m.sep) << 64) |
                          (prev.a & ~prev.digit & ~prev.sep);
    unsigned __int128 d = ((unsigned __int128)m.digit << 64) | prev.digit;
    return (uint64_t)((d & (d << 1) & (x << 2) & (x << 3)) >> 64);
}

/* Past `limit` stretches (limit >= 0) a list is given up: see py_windows. */
static int given_up(spans_t *s, Py_ssize_t limit) {
    if (s->cap == GIVEN_UP) return 1;
    if (limit < 0 || s->n <= limit) return 0;
    free(s->v);
    s->v = NULL;
    s->n = 0;
    s->cap = GIVEN_UP;
    return 1;
}

/* `margin` bytes either side of bytes `lo`..`hi` into `gates`, joined to the last stretch
 * where they touch (the positions only grow). */
static void push_near(spans_t *gates, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t margin,
                      Py_ssize_t n) {
    lo = lo - margin > 0 ? lo - margin : 0;
    hi = hi + margin < n ? hi + margin : n;
    if (gates->n && lo <= gates->v[gates->n - 1].hi) {
        if (hi > gates->v[gates->n - 1].hi) gates->v[gates->n - 1].hi = hi;
        if (lo < gates->v[gates->n - 1].lo) gates->v[gates->n - 1].lo = lo;
    } else {
        push(gates, lo, hi);
    }
}

/* The lists `windows` gives apart with `split` (see py_windows), each None past `limit` of
 * its stretches; `tens` has no limit. */
typedef struct {
    spans_t colons, ibans, tens, digit_runs, dotted;
    Py_ssize_t limit;
} split_t;

/* Stretches (see above) into `out`; with `gates`, also `margin` bytes either side of every
 * place a keyword-gated value can be: each has a run of five digits (a ten-digit number, a
 * postnummer), or a digit, '-' or ' ', and a digit (bankgiro, plusgiro, "123 45"); with
 * `split`, the lists it holds, and `margin` bytes either side of every run of ten digits in
 * its `tens` (the gated ten-digit number alone: a personnummer column holds a keyword and
 * digits on every line, where its gate pattern cost 16 ns a byte although hyphenated numbers
 * never match it). */
static void find_windows(const unsigned char *p, Py_ssize_t n, spans_t *out, spans_t *gates,
                         Py_ssize_t margin, spans_t *wide, Py_ssize_t wide_margin,
                         Py_ssize_t limit, split_t *split) {
    /* No byte before the buffer: its first byte ends no UTF-16 unit. */
    masks_t prev = {0, 0, 0, 0, 0, ~0ULL, 0, 0};
    uint64_t prev_units = 0;
    Py_ssize_t covered_a = 0, covered_hex = 0, covered_wide = 0, covered_iban = 0;
    Py_ssize_t covered_n = 0, covered_dotted = 0;
    spans_t *hex = split != NULL ? &split->colons : out;
    /* With `split`, e-mail addresses need no list: `email_keys` looks at every '@' itself. */
    spans_t *mail = split != NULL ? NULL : out;
    Py_ssize_t own_limit = split != NULL ? split->limit : limit;
    unsigned char tail[64];
    for (Py_ssize_t base = 0; base < n; base += 64) {
        const unsigned char *block = p + base;
        if (n - base < 64) {  /* zero bytes are in no class: the runs end with the buffer */
            memset(tail, 0, sizeof tail);
            memcpy(tail, block, (size_t)(n - base));
            block = tail;
        }
#ifdef HAVE_AVX2_PATH
        masks_t m = use_avx512 ? block_masks_avx512(block)
                    : use_avx2 ? block_masks_avx2(block)
                               : block_masks(block);
#else
        masks_t m = block_masks(block);
#endif
        if (!given_up(out, limit))
            for (uint64_t r = after(runs_of_7(prev.a, m.a), base, covered_a); r;
                 r = after(r, base, covered_a))
                push_run_holding(p, n, base + __builtin_ctzll(r), CLS_A, 0, 255, 7, out, &covered_a);
        if (mail != NULL && !given_up(mail, limit))
            for (uint64_t r = m.at; r; r &= r - 1) email_at(p, n, base + __builtin_ctzll(r), mail);
        /* Hex runs and IBAN runs apart: in text they are rare where the runs above are not. */
        if (!given_up(hex, own_limit))
            for (uint64_t r = after(m.colon, base, covered_hex); r;
                 r = after(r, base, covered_hex))
                ipv6_at(p, n, base + __builtin_ctzll(r), hex, &covered_hex);
        if (split != NULL && !given_up(&split->ibans, own_limit))
            for (uint64_t r = after(quad_ends(prev, m), base, covered_iban); r;
                 r = after(r, base, covered_iban))
                push_run_holding(p, n, base + __builtin_ctzll(r), CLS_A, 0, 255, 12, &split->ibans,
                                 &covered_iban);
        if (split != NULL && !given_up(&split->digit_runs, own_limit)) {
            uint64_t now = m.digit | m.sep | m.paren_plus;
            uint64_t before = prev.digit | prev.sep | prev.paren_plus;
            for (uint64_t r = after(runs_of_7(before, now), base, covered_n); r;
                 r = after(r, base, covered_n))
                push_run_holding(p, n, base + __builtin_ctzll(r), CLS_N, '0', '9', 7,
                                 &split->digit_runs, &covered_n);
        }
        if (split != NULL && !given_up(&split->dotted, own_limit)) {
            uint64_t now = m.digit | m.dot, before = prev.digit | prev.dot;
            for (uint64_t r = after(runs_of_7(before, now), base, covered_dotted); r;
                 r = after(r, base, covered_dotted))
                push_run_holding(p, n, base + __builtin_ctzll(r), CLS_DOTTED, '.', '.', 3,
                                 &split->dotted, &covered_dotted);
        }
        if (split != NULL)
            for (uint64_t r = runs_of_10(prev.digit, m.digit); r; r &= r - 1) {
                Py_ssize_t j = base + __builtin_ctzll(r);
                push_near(&split->tens, j - 9, j + 1, margin, n);
            }
        if (gates != NULL) {
            uint64_t five = runs_of_5(prev.digit, m.digit), three = digit_sep_digit(prev, m);
            for (uint64_t r = five | three; r; r &= r - 1) {
                Py_ssize_t j = base + __builtin_ctzll(r);
                push_near(gates, j - ((five >> (j - base)) & 1 ? 4 : 2), j + 1, margin, n);
            }
        }
        if (wide != NULL) {
            uint64_t units = unit_ends(prev.zero, m.zero);
            if (n - base < 64) units &= (1ULL << (n - base)) - 1;  /* not the padding */
            for (uint64_t r = after(three_units(prev_units, units), base, covered_wide); r;
                 r = after(r, base, covered_wide))
                wide_run_at(p, n, base + __builtin_ctzll(r), wide_margin, wide, &covered_wide);
            prev_units = units;
        }
        prev = m;
    }
    if (split != NULL) { /* the lists past their limit with the last block's runs */
        spans_t *own[4] = {&split->colons, &split->ibans, &split->digit_runs, &split->dotted};
        for (int i = 0; i < 4; i++) given_up(own[i], own_limit);
    }
}

static int by_lo(const void *a, const void *b) {
    Py_ssize_t x = ((const span_t *)a)->lo, y = ((const span_t *)b)->lo;
    return (x > y) - (x < y);
}

/* Sorts and merges the stretches (touching ones are one) and returns them as a list; None
 * for a list given up. */
/* Sorts the stretches and merges touching ones in place; returns how many are left. */
static Py_ssize_t merge_in_place(spans_t *found) {
    Py_ssize_t merged = 0;
    if (!found->failed && found->n) {
        /* Most lists are pushed in order (one kind of run each): qsort (glibc's merge sort)
         * cost 2 % of a raw pass sorting them again. */
        Py_ssize_t sorted = 1;
        while (sorted < found->n && found->v[sorted - 1].lo <= found->v[sorted].lo) sorted++;
        if (sorted < found->n) qsort(found->v, (size_t)found->n, sizeof *found->v, by_lo);
        for (Py_ssize_t i = 1; i < found->n; i++) {
            if (found->v[i].lo <= found->v[merged].hi) {
                if (found->v[i].hi > found->v[merged].hi) found->v[merged].hi = found->v[i].hi;
            } else {
                found->v[++merged] = found->v[i];
            }
        }
        merged++;
    }
    return merged;
}

static PyObject *merged_list(spans_t *found) {
    if (found->cap == GIVEN_UP) Py_RETURN_NONE;
    Py_ssize_t merged = merge_in_place(found);
    if (found->failed) {
        free(found->v);
        return PyErr_NoMemory();
    }
    PyObject *list = PyList_New(merged);
    for (Py_ssize_t i = 0; list != NULL && i < merged; i++) {
        PyObject *pair = Py_BuildValue("(nn)", found->v[i].lo, found->v[i].hi);
        if (pair == NULL) { Py_CLEAR(list); break; }
        PyList_SET_ITEM(list, i, pair);
    }
    free(found->v);
    return list;
}

/* `merged_list` as bytes of native Py_ssize_t (lo, hi) pairs: a page of documents holds tens
 * of thousands of digit runs, and a tuple each cost more than matching them. */
static PyObject *pairs_bytes(spans_t *found) {
    if (found->cap == GIVEN_UP) Py_RETURN_NONE;
    Py_ssize_t merged = merge_in_place(found);
    PyObject *out = found->failed ? PyErr_NoMemory()
                                   : PyBytes_FromStringAndSize((const char *)found->v,
                                                               merged * (Py_ssize_t)sizeof(span_t));
    free(found->v);
    return out;
}

/* windows(buffer, margin, wide_margin[, limit[, split[, own_limit]]]) -> (stretches where a
 * keyword-free 8-bit value can be, stretches within `margin` bytes of every place a
 * keyword-gated value's digits can be, runs of UTF-16LE text within `wide_margin` bytes), from
 * one reading of the buffer. With `limit`, a list of stretches is None once more than `limit`
 * are found: text has one every few dozen bytes, and sorting, merging and returning them cost
 * more than they save. With `split`, five more lists: the IPv6 runs (hex digits and colons)
 * apart from the first, and the runs of class A that hold two capitals and two digits (IBANs),
 * so that their patterns, which cost a quarter of a scan of text, run only there when text
 * fills the first list; the stretches within `margin` bytes of runs of ten digits (the gated
 * ten-digit number's, `find_windows`); the runs of digits, space and ( ) + - that hold seven
 * digits, each with a byte either side (`push_run_holding`); and the runs of digits and dots
 * that hold three dots (`push_run_holding`). The e-mail stretches leave the first list with
 * `split` for no list: `email_keys` finds the addresses' starts at every '@' itself. All but the ten digits' come as bytes of (lo, hi) pairs (`pairs_bytes`;
 * scanners._hs joins and scans them), each None past `own_limit` of them. */
static PyObject *py_windows(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t margin, wide_margin, limit = -1, own_limit = -1;
    int split = 0;
    if (!PyArg_ParseTuple(args, "y*nn|npn", &view, &margin, &wide_margin, &limit, &split,
                          &own_limit))
        return NULL;
    spans_t found = {NULL, 0, 0, 0}, gates = {NULL, 0, 0, 0}, wide = {NULL, 0, 0, 0};
    split_t lists_apart = {.limit = own_limit};
    Py_BEGIN_ALLOW_THREADS
    find_windows(view.buf, view.len, &found, &gates, margin < 0 ? 0 : margin, &wide,
                 wide_margin < 0 ? 0 : wide_margin, limit, split ? &lists_apart : NULL);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    enum { LISTS = 8 };
    PyObject *lists[LISTS] = {merged_list(&found), merged_list(&gates), merged_list(&wide)};
    int count = 3;
    if (split) {
        count = LISTS;
        lists[3] = pairs_bytes(&lists_apart.colons);
        lists[4] = pairs_bytes(&lists_apart.ibans);
        lists[5] = merged_list(&lists_apart.tens);
        lists[6] = pairs_bytes(&lists_apart.digit_runs);
        lists[7] = pairs_bytes(&lists_apart.dotted);
    }
    int failed = 0;
    for (int i = 0; i < count; i++) failed = failed || lists[i] == NULL;
    if (failed) {
        for (int i = 0; i < LISTS; i++) Py_XDECREF(lists[i]);
        return NULL;
    }
    PyObject *result = PyTuple_New(count);
    for (int i = 0; result != NULL && i < count; i++) PyTuple_SET_ITEM(result, i, lists[i]);
    if (result == NULL)
        for (int i = 0; i < count; i++) Py_DECREF(lists[i]);
    return result;
}

/* ---- e-mail and IPv4 candidates without hyperscan ----------------------------------------
 *
 * email_keys(buffer, spans, index) and ipv4_keys(buffer, spans, index) -> the packed keys
 * (position << 8 | index, scanners.engines.hyperscan.packed) of the starts hyperscan reports
 * for the e-mail and IPv4 patterns (scanners.patterns; the leftmost start of every match), in
 * the spans given (bytes of (lo, hi) pairs; None: the whole buffer): every '@' of the whole
 * buffer (memchr), the IPv4 runs `windows` lists.
 * Hyperscan spent about 300 ns on each such match with its start tracked (a mail log holds an
 * address and a relay every 250 bytes: 1.1 ns a byte), where these patterns' starts are found
 * by reading their stretch once. Tests compare both ways on fuzzed buffers. */

static inline int tld_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* [A-Za-z0-9-]: what may not follow a top-level domain. */
static inline int tld_goes_on(unsigned char c) {
    return tld_letter(c) || (c >= '0' && c <= '9') || c == '-';
}

/* Whether L@D+(\.D+)*\.([A-Za-z]{2,24}|xn--[A-Za-z0-9-]+)([^A-Za-z0-9-]|$) matches from
 * at - 1 (L: a local-part byte, CLS_LOCAL; D: a domain byte, CLS_DOMAIN but '.'). */
static int email_from(const unsigned char *p, Py_ssize_t n, Py_ssize_t at) {
    if (at < 1 || !(cls[p[at - 1]] & CLS_LOCAL)) return 0;
    Py_ssize_t label = 0; /* bytes of the label before this one */
    for (Py_ssize_t i = at + 1; i < n; i++) {
        if (p[i] != '.') {
            if (!(cls[p[i]] & CLS_DOMAIN)) return 0;
            label++;
            continue;
        }
        if (!label) return 0; /* an empty label: no match goes past it */
        Py_ssize_t k = i + 1;
        while (k < n && tld_letter(p[k])) k++;
        if (k - i - 1 >= 2 && k - i - 1 <= 24 && (k == n || !tld_goes_on(p[k]))) return 1;
        if (i + 5 < n && memcmp(p + i + 1, "xn--", 4) == 0 && tld_goes_on(p[i + 5])) return 1;
        label = 0;
    }
    return 0;
}

/* The starts of [0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}([^0-9]|$) in the run of digits
 * and dots p[s:e] (p[e] is neither, or e is the buffer's end): every group of digits that a
 * dot or the run's end follows, with three groups of one to three digits before it, each after
 * one dot, ends a match, which starts up to three digits before the first of those dots. */
typedef struct { uint64_t *v; Py_ssize_t n, cap; } keys_t;

static int put_key(keys_t *k, Py_ssize_t position, uint64_t index) {
    if (k->n == k->cap) {
        Py_ssize_t cap = k->cap ? 2 * k->cap : 1024;
        uint64_t *v = PyMem_RawRealloc(k->v, (size_t)cap * sizeof *v);
        if (v == NULL) return -1;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = (uint64_t)position << 8 | index;
    return 0;
}

static int ipv4_in_run(const unsigned char *p, Py_ssize_t s, Py_ssize_t e, uint64_t index,
                       keys_t *out) {
    Py_ssize_t from[4] = {0}, len[4] = {0}; /* the last four groups, oldest first */
    int groups = 0;
    for (Py_ssize_t i = s; i <= e; i++) {
        Py_ssize_t a = i;
        while (i < e && p[i] != '.') i++;
        memmove(from, from + 1, 3 * sizeof *from);
        memmove(len, len + 1, 3 * sizeof *len);
        from[3] = a;
        len[3] = i - a;
        if (++groups < 4) continue;
        if (!len[0] || !len[1] || !len[2] || !len[3] || len[1] > 3 || len[2] > 3 || len[3] > 3)
            continue;
        Py_ssize_t first = len[0] < 3 ? len[0] : 3;
        if (put_key(out, from[0] + len[0] - first, index) < 0) return -1;
    }
    return 0;
}

static int email_in(const unsigned char *p, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                    uint64_t index, keys_t *out) {
    for (const unsigned char *q = memchr(p + lo, '@', (size_t)(hi - lo)); q != NULL;
         q = memchr(q + 1, '@', (size_t)(p + hi - q - 1))) {
        Py_ssize_t at = q - p;
        if (email_from(p, n, at) && put_key(out, at - 1, index) < 0) return -1;
        if (at + 1 >= hi) break;
    }
    return 0;
}

static int ipv4_in(const unsigned char *p, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                   uint64_t index, keys_t *out) {
    (void)n;
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (!(cls[p[i]] & CLS_DOTTED)) continue;
        Py_ssize_t s = i;
        while (i < hi && (cls[p[i]] & CLS_DOTTED)) i++;
        if (ipv4_in_run(p, s, i, index, out) < 0) return -1;
    }
    return 0;
}


/* Personnummer forms, card numbers and national phone numbers: their patterns' starts at
 * every place a match can end in the runs of digits, space and ( ) + - (`push_run_holding`):
 * after a digit, where a byte that is no ASCII letter or digit follows (or the buffer ends).
 * In documents such runs are a fifth of the bytes, and hyperscan spent 10 to 20 ns a byte
 * of them tracking these patterns' starts. One pass over a run notes how many digits in a row
 * end at each byte (`digits_to`), so each pattern is a few lookups at each end. */
static inline int dig(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int alnum(unsigned char c) { return dig(c) || tld_letter(c); }
static int card_sep(unsigned char c) { return c == ' ' || c == '-'; }

/* A run p[s:e] and how many digits in a row end at each of its bytes, up to 255 (the patterns
 * compare it with 19 at most): one byte of room for each byte of the longest run. */
typedef struct {
    const unsigned char *p;
    Py_ssize_t s, e;
    const uint8_t *digits_to; /* [i - s] for byte i */
} run_t;

/* Digits in a row that end at byte i (none before the run: the byte before it is no digit). */
static inline Py_ssize_t row(const run_t *r, Py_ssize_t i) {
    return i >= r->s && i < r->e ? r->digits_to[i - r->s] : 0;
}

static inline int byte_is(const run_t *r, Py_ssize_t i, int (*test)(unsigned char)) {
    return i >= 0 && test(r->p[i]);
}

static int pnr_sep(unsigned char c) { return c == '-' || c == '+'; }

/* (?:(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}|[0-9]{12}) ending before j: its leftmost start. */
static Py_ssize_t pnr_start(const run_t *r, Py_ssize_t j) {
    Py_ssize_t last = row(r, j - 1);
    if (last == 4 && byte_is(r, j - 5, pnr_sep) && row(r, j - 6) >= 6)
        return row(r, j - 6) >= 8 ? j - 13 : j - 11;
    return last >= 12 ? j - 12 : -1;
}

/* [0-9]{13,19} | [0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7} | [0-9]{4}[ -][0-9]{6}[ -]
 * [0-9]{4,5} | [0-9]{4}[ -][0-9]{5}[ -][0-9]{6}, ending before j: its leftmost start. The
 * last group is every digit before j; its length and the next group's pick the alternative. */
static Py_ssize_t card_start(const run_t *r, Py_ssize_t j) {
    Py_ssize_t last = row(r, j - 1);
    if (last >= 13) return last <= 19 ? j - last : j - 19;
    Py_ssize_t sep = j - last - 1;
    if (!last || !byte_is(r, sep, card_sep)) return -1;
    Py_ssize_t middle = row(r, sep - 1), at = sep - middle - 1; /* the group before, whole */
    if (!byte_is(r, at, card_sep)) return -1;
    if (middle == 4 && last <= 7) { /* ... [0-9]{4}[ -][0-9]{4}[ -] before it */
        if (row(r, at - 1) != 4 || !byte_is(r, at - 5, card_sep)) return -1;
        at -= 5;
    } else if (!((middle == 6 && last >= 4 && last <= 5) || (middle == 5 && last == 6))) {
        return -1;
    }
    return row(r, at - 1) >= 4 ? at - 4 : -1;
}

/* (?:^|[^0-9])(?:0[1-9](?:[ -]?[0-9]){6,9}|\(0[1-9][0-9]{0,2}\) ?[0-9](?:[ -]?[0-9]){4,7})
 * ending before j: its leftmost start (the byte before the value; the value itself at 0). The
 * digits before j joined by single spaces or hyphens are walked back (at most 13). */
static Py_ssize_t phone_start(const run_t *r, Py_ssize_t j) {
    const unsigned char *p = r->p;
    Py_ssize_t at[13];
    int count = 0;
    Py_ssize_t q = j - 1;
    while (count < 13 && q >= 0 && dig(p[q])) {
        at[count++] = q;
        if (q >= 1 && dig(p[q - 1])) q -= 1;
        else if (q >= 2 && card_sep(p[q - 1]) && dig(p[q - 2])) q -= 2;
        else break;
    }
    /* \(0[1-9][0-9]{0,2}\) ?  then the whole chain of 5 to 8 digits */
    if (count >= 5 && count <= 8) {
        Py_ssize_t rp = at[count - 1] - 1;
        if (rp >= 0 && p[rp] == ' ') rp--;
        if (rp >= 0 && p[rp] == ')') {
            Py_ssize_t inner = row(r, rp - 1), open = rp - inner - 1;
            if (inner >= 2 && inner <= 4 && open >= 0 && p[open] == '(' && p[open + 1] == '0' &&
                p[open + 2] >= '1' && p[open + 2] <= '9' && (open == 0 || !dig(p[open - 1])))
                return open == 0 ? 0 : open - 1;
        }
    }
    /* 0[1-9] at at[t + 1], at[t] (adjacent), then t digits (6 to 9), a non-digit before */
    for (int t = 9; t >= 6; t--) {
        if (t + 1 >= count) continue;
        Py_ssize_t h = at[t + 1];
        if (at[t] != h + 1 || p[h] != '0' || p[h + 1] < '1') continue;
        if (h == 0) return 0;
        if (!dig(p[h - 1])) return h - 1;
    }
    return -1;
}

typedef struct {
    uint8_t *v;
    Py_ssize_t cap;
} rows_t;

/* The three kinds' starts at every end in the runs of digits, space and ( ) + - that lie in
 * p[lo:hi] (`index`: personnummer, card, phone), each start once in a row. */
static int digit_kinds_in(const unsigned char *p, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                          const uint64_t *index, keys_t *out, rows_t *rows) {
    static Py_ssize_t (*const start_of[3])(const run_t *, Py_ssize_t) = {pnr_start, card_start,
                                                                         phone_start};
    Py_ssize_t last[3] = {-1, -1, -1};
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (!(cls[p[i]] & CLS_N)) continue;
        Py_ssize_t s = i;
        while (i < n && (cls[p[i]] & CLS_N)) i++;
        if (i - s > rows->cap) {
            uint8_t *v = PyMem_RawRealloc(rows->v, (size_t)(i - s) * sizeof *v);
            if (v == NULL) return -1;
            rows->v = v;
            rows->cap = i - s;
        }
        for (Py_ssize_t k = s; k < i; k++) {
            unsigned before = k > s ? rows->v[k - s - 1] : 0;
            rows->v[k - s] = dig(p[k]) ? (uint8_t)(before < 255 ? before + 1 : 255) : 0;
        }
        run_t run = {p, s, i, rows->v};
        for (Py_ssize_t j = s + 1; j <= i; j++) {
            if (!dig(p[j - 1]) || (j < n && alnum(p[j]))) continue;
            for (int kind = 0; kind < 3; kind++) {
                Py_ssize_t at = start_of[kind](&run, j);
                if (at >= 0 && at != last[kind]) {
                    if (put_key(out, at, index[kind]) < 0) return -1;
                    last[kind] = at;
                }
            }
        }
    }
    return 0;
}

/* A finder's starts in p[lo:hi] for its kinds' compiled indices; `rows` is scratch room. */
typedef int (*finder_fn)(const unsigned char *, Py_ssize_t, Py_ssize_t, Py_ssize_t,
                         const uint64_t *, keys_t *, rows_t *);

static int email_finder(const unsigned char *p, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                        const uint64_t *index, keys_t *out, rows_t *rows) {
    (void)rows;
    return email_in(p, n, lo, hi, index[0], out);
}

static int ipv4_finder(const unsigned char *p, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi,
                       const uint64_t *index, keys_t *out, rows_t *rows) {
    (void)rows;
    return ipv4_in(p, n, lo, hi, index[0], out);
}

/* (buffer, spans, index...) with `kinds` indices: the finder's packed keys in the spans. */
static PyObject *keys_in_spans(PyObject *args, finder_fn find, int kinds) {
    Py_buffer view, spans = {0};
    PyObject *spans_obj;
    unsigned int given[3] = {0, 0, 0};
    int parsed = kinds == 1 ? PyArg_ParseTuple(args, "y*OI", &view, &spans_obj, &given[0])
                            : PyArg_ParseTuple(args, "y*OIII", &view, &spans_obj, &given[0],
                                               &given[1], &given[2]);
    if (!parsed) return NULL;
    PyObject *result = NULL;
    keys_t out = {NULL, 0, 0};
    rows_t rows = {NULL, 0};
    Py_ssize_t whole[2] = {0, view.len};
    const Py_ssize_t *pairs = whole;
    Py_ssize_t count = 1;
    uint64_t index[3];
    for (int k = 0; k < kinds; k++) {
        if (given[k] > 255) {
            PyErr_SetString(PyExc_ValueError, "packed keys take ids 0-255");
            goto done;
        }
        index[k] = given[k];
    }
    if (spans_obj != Py_None) {
        if (PyObject_GetBuffer(spans_obj, &spans, PyBUF_SIMPLE) < 0) goto done;
        if (spans.len % (Py_ssize_t)(2 * sizeof(Py_ssize_t))) {
            PyErr_SetString(PyExc_ValueError, "spans are bytes of whole (lo, hi) pairs");
            goto done;
        }
        pairs = spans.buf;
        count = spans.len / (Py_ssize_t)(2 * sizeof(Py_ssize_t));
    }
    int failed = 0;
    const unsigned char *p = view.buf;
    Py_ssize_t n = view.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && !failed; i++) {
        Py_ssize_t lo = pairs[2 * i] < 0 ? 0 : pairs[2 * i], hi = pairs[2 * i + 1];
        if (hi > n) hi = n;
        if (lo < hi) failed = find(p, n, lo, hi, index, &out, &rows) < 0;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)out.v, out.n * (Py_ssize_t)sizeof *out.v);
done:
    PyBuffer_Release(&view);
    if (spans.obj != NULL) PyBuffer_Release(&spans);
    PyMem_RawFree(out.v);
    PyMem_RawFree(rows.v);
    return result;
}

static PyObject *py_email_keys(PyObject *self, PyObject *args) {
    return keys_in_spans(args, email_finder, 1);
}

static PyObject *py_ipv4_keys(PyObject *self, PyObject *args) {
    return keys_in_spans(args, ipv4_finder, 1);
}

static PyObject *py_digit_keys(PyObject *self, PyObject *args) {
    return keys_in_spans(args, digit_kinds_in, 3);
}

/* ---- stretches joined ---------------------------------------------------------------------
 *
 * join(buffer, spans, gap, even) -> (bytes, origins): the spans (lo, hi) of the buffer in one
 * bytes object, `gap` bytes of 0x01 between them (and before the first with `even`, which also
 * adds a byte wherever a span would change its byte parity), and where each span starts in it.
 * scanners.engines.hyperscan._join_py is the same in Python, at about 2 us a span: a page of
 * text holds thousands of stretches. A span ending past the buffer is cut at its end. */
static PyObject *py_join(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *spans;
    Py_ssize_t gap;
    int even;
    if (!PyArg_ParseTuple(args, "y*Onp", &view, &spans, &gap, &even)) return NULL;
    PyObject *seq = PySequence_Fast(spans, "spans must be a sequence of (lo, hi)");
    PyObject *joined = NULL, *origins = NULL, *result = NULL;
    Py_ssize_t *lo = NULL, *len = NULL, *at = NULL;
    if (seq == NULL) goto done;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq), n = view.len, size = 0;
    if (gap < 0) {
        PyErr_SetString(PyExc_ValueError, "gap must not be negative");
        goto done;
    }
    lo = PyMem_Malloc((size_t)(count ? count : 1) * sizeof *lo);
    len = PyMem_Malloc((size_t)(count ? count : 1) * sizeof *len);
    at = PyMem_Malloc((size_t)(count ? count : 1) * sizeof *at);
    if (lo == NULL || len == NULL || at == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t a, b;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "nn", &a, &b)) goto done;
        if (a < 0 || b < a) {
            PyErr_SetString(PyExc_ValueError, "a span is (lo, hi) with 0 <= lo <= hi");
            goto done;
        }
        Py_ssize_t pad = (i > 0 || even) ? gap : 0;
        if (even && (size + pad - a) % 2) pad++;
        size += pad;
        lo[i] = a;
        len[i] = (b < n ? b : n) - a > 0 ? (b < n ? b : n) - a : 0;
        at[i] = size;
        size += len[i];
    }
    joined = PyBytes_FromStringAndSize(NULL, size);
    origins = PyList_New(count);
    if (joined == NULL || origins == NULL) goto done;
    char *out = PyBytes_AS_STRING(joined);
    memset(out, 1, (size_t)size);
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(out + at[i], (const char *)view.buf + lo[i], (size_t)len[i]);
        PyObject *origin = PyLong_FromSsize_t(at[i]);
        if (origin == NULL) goto done;
        PyList_SET_ITEM(origins, i, origin);
    }
    result = PyTuple_Pack(2, joined, origins);
done:
    Py_XDECREF(joined);
    Py_XDECREF(origins);
    Py_XDECREF(seq);
    PyMem_Free(lo);
    PyMem_Free(len);
    PyMem_Free(at);
    PyBuffer_Release(&view);
    return result;
}

/* ---- where a compressed stream may start --------------------------------------------------
 *
 * starts(buffer, start, end, needles) -> sorted offsets in [start, end) where one of the
 * needles (two bytes or more each) starts and ends by `end`. The raw pass looks for zip, gzip
 * and zlib headers and PDF filter names in every page of a drive: each block of the buffer is
 * compared with every needle's first two bytes at once (a chance pair in random bytes comes
 * every few KB), and only those places are compared in full. */
enum { MAX_NEEDLES = 32 };
typedef struct {
    const unsigned char *v[MAX_NEEDLES];
    Py_ssize_t len[MAX_NEEDLES];
    int n;
    /* Nibble tables (low, high) of the first and second bytes: bit g stands for the g-th
     * distinct first byte and, in the second-byte tables, for the second bytes of its needles
     * (a superset: the nibbles of two of them combine). `groups` > 8: no tables. */
    unsigned char first_lo[16], first_hi[16], second_lo[16], second_hi[16];
    int groups;
} needles_t;

static void nibble_tables(needles_t *k) {
    unsigned char firsts[MAX_NEEDLES];
    k->groups = 0;
    for (int i = 0; i < k->n; i++) {
        int g = 0;
        while (g < k->groups && firsts[g] != k->v[i][0]) g++;
        if (g == k->groups) firsts[k->groups++] = k->v[i][0];
        if (g >= 8) continue;
        unsigned char bit = (unsigned char)(1u << g), a = k->v[i][0], b = k->v[i][1];
        k->first_lo[a & 15] |= bit;
        k->first_hi[a >> 4] |= bit;
        k->second_lo[b & 15] |= bit;
        k->second_hi[b >> 4] |= bit;
    }
}

static int needle_at(const unsigned char *p, Py_ssize_t pos, Py_ssize_t end, const needles_t *k) {
    for (int i = 0; i < k->n; i++)
        if (pos + k->len[i] <= end && memcmp(p + pos, k->v[i], (size_t)k->len[i]) == 0) return 1;
    return 0;
}

/* Every place pos + j, for bit j of `hits`, where a needle stands in full. */
static inline void keep_needles(const unsigned char *p, Py_ssize_t pos, uint64_t hits,
                                Py_ssize_t end, const needles_t *k, spans_t *out) {
    for (; hits; hits &= hits - 1) {
        Py_ssize_t at = pos + __builtin_ctzll(hits);
        if (needle_at(p, at, end, k)) push(out, at, at);
    }
}

/* Bits j where bytes pos + j, pos + j + 1 are some needle's first two (16 places; SSE2). */
#if defined(__SSE2__)
static inline uint32_t pair_bits16(const unsigned char *p, const needles_t *k) {
    __m128i x0 = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 1));
    __m128i any = _mm_setzero_si128();
    for (int i = 0; i < k->n; i++)
        any = _mm_or_si128(any, _mm_and_si128(is(x0, (char)k->v[i][0]), is(x1, (char)k->v[i][1])));
    return (uint32_t)_mm_movemask_epi8(any);
}
#endif

#ifdef HAVE_AVX2_PATH
/* 32 places at a time by the nibble tables: four table lookups whatever the needles. Returns
 * where it stopped. */
__attribute__((target("avx2"))) static Py_ssize_t starts_avx2(const unsigned char *p,
                                                              Py_ssize_t pos, Py_ssize_t end,
                                                              const needles_t *k, spans_t *out) {
#define TABLE(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t)))
    const __m256i first_lo = TABLE(k->first_lo), first_hi = TABLE(k->first_hi);
    const __m256i second_lo = TABLE(k->second_lo), second_hi = TABLE(k->second_hi);
#undef TABLE
    const __m256i low4 = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    for (; pos + 33 <= end; pos += 32) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(p + pos));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(p + pos + 1));
        __m256i a = _mm256_and_si256(
            _mm256_shuffle_epi8(first_lo, _mm256_and_si256(x0, low4)),
            _mm256_shuffle_epi8(first_hi, _mm256_and_si256(_mm256_srli_epi16(x0, 4), low4)));
        __m256i b = _mm256_and_si256(
            _mm256_shuffle_epi8(second_lo, _mm256_and_si256(x1, low4)),
            _mm256_shuffle_epi8(second_hi, _mm256_and_si256(_mm256_srli_epi16(x1, 4), low4)));
        uint32_t r = ~(uint32_t)_mm256_movemask_epi8(
            _mm256_cmpeq_epi8(_mm256_and_si256(a, b), zero));
        keep_needles(p, pos, r, end, k, out);
    }
    return pos;
}
#endif

#ifdef HAVE_AVX2_PATH
/* 64 places at a time, the same way, with AVX-512 (BW). */
__attribute__((target("avx512bw"))) static Py_ssize_t starts_avx512(const unsigned char *p,
                                                                    Py_ssize_t pos,
                                                                    Py_ssize_t end,
                                                                    const needles_t *k,
                                                                    spans_t *out) {
#define TABLE(t) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(t)))
    const __m512i first_lo = TABLE(k->first_lo), first_hi = TABLE(k->first_hi);
    const __m512i second_lo = TABLE(k->second_lo), second_hi = TABLE(k->second_hi);
#undef TABLE
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (; pos + 65 <= end; pos += 64) {
        __m512i x0 = _mm512_loadu_si512((const void *)(p + pos));
        __m512i x1 = _mm512_loadu_si512((const void *)(p + pos + 1));
        __m512i a = _mm512_and_si512(
            _mm512_shuffle_epi8(first_lo, _mm512_and_si512(x0, low4)),
            _mm512_shuffle_epi8(first_hi, _mm512_and_si512(_mm512_srli_epi16(x0, 4), low4)));
        __m512i b = _mm512_and_si512(
            _mm512_shuffle_epi8(second_lo, _mm512_and_si512(x1, low4)),
            _mm512_shuffle_epi8(second_hi, _mm512_and_si512(_mm512_srli_epi16(x1, 4), low4)));
        keep_needles(p, pos, _mm512_test_epi8_mask(a, b), end, k, out);
    }
    return pos;
}
#endif

static void find_starts(const unsigned char *p, Py_ssize_t start, Py_ssize_t end,
                        const needles_t *k, spans_t *out) {
    Py_ssize_t pos = start;
#ifdef HAVE_AVX2_PATH
    if (use_avx512 && k->groups <= 8) pos = starts_avx512(p, pos, end, k, out);
    if (use_avx2 && k->groups <= 8) pos = starts_avx2(p, pos, end, k, out);
#endif
#if defined(__SSE2__)
    for (; pos + 17 <= end; pos += 16) keep_needles(p, pos, pair_bits16(p + pos, k), end, k, out);
#endif
    for (; pos + 1 < end; pos++)
        if (needle_at(p, pos, end, k)) push(out, pos, pos);
}

static PyObject *py_starts(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, end;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "y*nnO", &view, &start, &end, &seq)) return NULL;
    PyObject *items = PySequence_Fast(seq, "needles must be a sequence of bytes");
    needles_t k;
    memset(&k, 0, sizeof k);
    PyObject *result = NULL;
    if (items == NULL) goto done;
    if (PySequence_Fast_GET_SIZE(items) > MAX_NEEDLES) {
        PyErr_SetString(PyExc_ValueError, "at most 32 needles");
        goto done;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        if (!PyBytes_Check(item) || PyBytes_GET_SIZE(item) < 2) {
            PyErr_SetString(PyExc_ValueError, "each needle is bytes of length 2 or more");
            goto done;
        }
        k.v[k.n] = (const unsigned char *)PyBytes_AS_STRING(item);
        k.len[k.n++] = PyBytes_GET_SIZE(item);
    }
    nibble_tables(&k);
    if (start < 0) start = 0;
    if (end > view.len) end = view.len;
    spans_t found = {NULL, 0, 0, 0};
    Py_BEGIN_ALLOW_THREADS
    if (start < end) find_starts(view.buf, start, end, &k, &found);
    Py_END_ALLOW_THREADS
    if (found.failed) {
        PyErr_NoMemory();
    } else if ((result = PyList_New(found.n)) != NULL) {
        for (Py_ssize_t i = 0; i < found.n; i++) {
            PyObject *at = PyLong_FromSsize_t(found.v[i].lo);
            if (at == NULL) { Py_CLEAR(result); break; }
            PyList_SET_ITEM(result, i, at);
        }
    }
    free(found.v);
done:
    Py_XDECREF(items);
    PyBuffer_Release(&view);
    return result;
}

/* round(confidence, 3) through `rounded`, which learns the ones it lacks (Python's round,
 * called here); borrowed from the dict. */
static PyObject *shown_of(PyObject *rounded, PyObject *confidence) {
    PyObject *shown = PyDict_GetItemWithError(rounded, confidence);
    if (shown == NULL && !PyErr_Occurred()) {
        PyObject *round = PyDict_GetItemString(PyEval_GetBuiltins(), "round");
        PyObject *made = round == NULL ? NULL : PyObject_CallFunction(round, "Oi", confidence, 3);
        if (made != NULL && PyDict_SetItem(rounded, confidence, made) == 0)
            shown = made; /* the dict holds it */
        Py_XDECREF(made);
        if (shown == NULL && !PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "no builtin round");
    }
    return shown;
}

/* Where a confirm loop puts its values: Finding rows in a list (confirm_all), or fixed-size
 * records in a buffer (confirm_records), which never become Python objects. */
typedef struct {
    int records;
    PyObject *found;            /* rows: the list */
    PyObject *wanted, *rounded; /* rows: the wanted categories, the shown confidences */
    PyTypeObject *finding;
    PyObject *index_of;         /* records: {category: index} of the wanted categories */
    unsigned char *rec;         /* records: RECORD bytes each */
    Py_ssize_t n, cap;
    digests_t digests; /* records: a digest waiting for its pair (`hot_record_at`) */
} sink_t;

/* A record: the device offset (int64), the length (uint32), the category's index (uint8),
 * three bytes of zeros, then the first 16 bytes of the keyed digest (scanners.records). */
enum { RECORD = 32 };

/* What one confirm loop keeps about its kinds and confidences. `setups` and `rules`: each
 * kind's C rule (hot_confirm_direct), NULL for a kind confirmed through its callable. */
typedef struct {
    const void **setups;
    int *rules;
    int wanted[CATEGORIES_MAX]; /* rows: -1: not asked yet; records: -2 not asked, -1 not wanted */
    double conf[16];
    PyObject *shown[16]; /* borrowed from `rounded` */
    int nshown;
} confirm_state_t;

/* A finding of a value a C rule confirmed, or Py_None where it is below the floor or not of a
 * wanted category; NULL with an error. */
static PyObject *finding_of_hit(const hit_t *h, Py_ssize_t origin, double floor, PyObject *wanted,
                                PyObject *rounded, const uint32_t hi[8], const uint32_t ho[8],
                                PyTypeObject *finding, confirm_state_t *st) {
    if (!(h->confidence >= floor)) return Py_None;
    PyObject *category = hot_category_name(h->category);
    if (category == NULL) return NULL;
    if (h->category >= CATEGORIES_MAX) {
        PyErr_SetString(PyExc_ValueError, "more categories than confirm_all keeps");
        return NULL;
    }
    int *keep = &st->wanted[h->category];
    if (*keep < 0 && (*keep = PySet_Contains(wanted, category)) < 0) return NULL;
    if (!*keep) return Py_None;
    PyObject *shown = NULL;
    for (int i = 0; i < st->nshown && shown == NULL; i++)
        if (st->conf[i] == h->confidence) shown = st->shown[i];
    if (shown == NULL) {
        PyObject *confidence = PyFloat_FromDouble(h->confidence);
        if (confidence == NULL) return NULL;
        shown = shown_of(rounded, confidence);
        Py_DECREF(confidence);
        if (shown == NULL) return NULL;
        if (st->nshown < 16) {
            st->conf[st->nshown] = h->confidence;
            st->shown[st->nshown++] = shown;
        }
    }
    int ascii = 1;
    for (Py_ssize_t i = 0; i < h->length; i++) ascii = ascii && (unsigned char)h->normalized[i] < 0x80;
    PyObject *digest;
    if (ascii) {
        digest = hmac_hex_of_bytes(hi, ho, h->normalized, h->length);
    } else { /* as the rule's str would be: its UTF-8 */
        PyObject *text = PyUnicode_DecodeUTF8(h->normalized, h->length, NULL);
        digest = text == NULL ? NULL : hmac_hex_of(hi, ho, text);
        Py_XDECREF(text);
    }
    PyObject *fields[5] = {Py_NewRef(category), NULL, NULL, Py_NewRef(shown), digest};
    fields[1] = digest == NULL ? NULL : PyLong_FromSsize_t(origin + h->begin);
    fields[2] = fields[1] == NULL ? NULL : PyLong_FromSsize_t(h->end - h->begin);
    return hot_row(finding, fields, 5);
}

/* The index `index_of` gives a category: -1 for one it lacks (not wanted), -2 with an error. */
static int index_in(PyObject *index_of, PyObject *category) {
    PyObject *v = PyDict_GetItemWithError(index_of, category);
    if (v == NULL) return PyErr_Occurred() ? -2 : -1;
    long i = PyLong_AsLong(v);
    if (i == -1 && PyErr_Occurred()) return -2;
    if (i < 0 || i > 255) {
        PyErr_SetString(PyExc_ValueError, "category indexes are 0-255");
        return -2;
    }
    return (int)i;
}

/* One record of a value: its digest from the UTF-8 `msg`. -1 with an error. */
static int record_put(sink_t *out, Py_ssize_t offset, Py_ssize_t length, int index,
                      const uint32_t hi[8], const uint32_t ho[8], const char *msg, Py_ssize_t n) {
    if (out->n == out->cap) {
        Py_ssize_t cap = out->cap ? 2 * out->cap : 1024;
        unsigned char *grown = PyMem_Realloc(out->rec, (size_t)cap * RECORD);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        out->rec = grown;
        out->cap = cap;
    }
    hot_record_at(&out->digests, out->rec, out->n++, offset, length, index, hi, ho, msg, n);
    return 0;
}

/* A record of a value a C rule confirmed, where it is of a wanted category at the floor or
 * more: as finding_of_hit's row would be. -1 with an error. */
static int record_of_hit(const hit_t *h, Py_ssize_t origin, double floor, const uint32_t hi[8],
                         const uint32_t ho[8], sink_t *out, confirm_state_t *st) {
    if (!(h->confidence >= floor)) return 0;
    if (h->category < 0 || h->category >= CATEGORIES_MAX) {
        PyErr_SetString(PyExc_ValueError, "more categories than confirm_records keeps");
        return -1;
    }
    int *index = &st->wanted[h->category];
    if (*index == -2) {
        PyObject *category = hot_category_name(h->category);
        if (category == NULL || (*index = index_in(out->index_of, category)) == -2) {
            *index = -2;
            return -1;
        }
    }
    if (*index < 0) return 0;
    int ascii = 1;
    for (Py_ssize_t i = 0; i < h->length; i++) ascii = ascii && (unsigned char)h->normalized[i] < 0x80;
    if (ascii)
        return record_put(out, origin + h->begin, h->end - h->begin, *index, hi, ho,
                          h->normalized, h->length);
    /* as the rule's str would be: its UTF-8 (an invalid one fails as confirm_all does) */
    PyObject *text = PyUnicode_DecodeUTF8(h->normalized, h->length, NULL);
    Py_ssize_t n;
    const char *msg = text == NULL ? NULL : PyUnicode_AsUTF8AndSize(text, &n);
    int done = msg == NULL ? -1
                           : record_put(out, origin + h->begin, h->end - h->begin, *index, hi,
                                        ho, msg, n);
    Py_XDECREF(text);
    return done;
}

/* A value a Python confirmation gave, (category, confidence, normalized, begin, end), into the
 * sink; `covered` learns its end. -1 with an error. */
static int put_hit(PyObject *hit, Py_ssize_t origin, double floor, const uint32_t hi[8],
                   const uint32_t ho[8], sink_t *out, Py_ssize_t *covered) {
    if (!PyTuple_Check(hit) || PyTuple_GET_SIZE(hit) != 5) {
        PyErr_SetString(PyExc_TypeError, "a confirmation gives None or five fields");
        return -1;
    }
    PyObject *category = PyTuple_GET_ITEM(hit, 0), *confidence = PyTuple_GET_ITEM(hit, 1);
    Py_ssize_t begin = PyLong_AsSsize_t(PyTuple_GET_ITEM(hit, 3));
    Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(hit, 4));
    double conf = PyFloat_AsDouble(confidence);
    if ((begin == -1 || end == -1 || conf == -1.0) && PyErr_Occurred()) return -1;
    *covered = end;
    if (out->records) {
        if (!(conf >= floor)) return 0;
        int index = index_in(out->index_of, category);
        if (index < 0) return index == -2 ? -1 : 0;
        Py_ssize_t n;
        const char *msg = PyUnicode_Check(PyTuple_GET_ITEM(hit, 2))
                              ? PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(hit, 2), &n)
                              : NULL;
        if (msg == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a normalized value is str");
            return -1;
        }
        return record_put(out, origin + begin, end - begin, index, hi, ho, msg, n);
    }
    int keep = conf >= floor ? PySet_Contains(out->wanted, category) : 0;
    if (keep <= 0) return keep;
    PyObject *shown = shown_of(out->rounded, confidence);
    if (shown == NULL) return -1;
    PyObject *fields[5] = {Py_NewRef(category), NULL, NULL, Py_NewRef(shown), NULL};
    fields[4] = hmac_hex_of(hi, ho, PyTuple_GET_ITEM(hit, 2));
    fields[1] = fields[4] == NULL ? NULL : PyLong_FromSsize_t(origin + begin);
    fields[2] = fields[1] == NULL ? NULL : PyLong_FromSsize_t(end - begin);
    return hot_append(out->found, hot_row(out->finding, fields, 5));
}

/* The loop of confirm_all and confirm_records over a page's sorted starts (see confirm_all):
 * each start not inside the value found before it is confirmed, in C where the kind's rule is
 * (`direct`), else through its callable in `confirms`. 0, or -1 with an error. */
static int confirm_loop(PyObject *buffer, PyObject *base, PyObject *starts, PyObject *confirms,
                        PyObject *direct, double floor, const uint32_t hi[8],
                        const uint32_t ho[8], sink_t *out) {
    Py_ssize_t origin = PyLong_AsSsize_t(base);
    if (origin == -1 && PyErr_Occurred()) return -1;
    Py_ssize_t covered = -1, kinds = PyTuple_GET_SIZE(confirms);
    confirm_state_t st = {NULL, NULL, {0}, {0}, {NULL}, 0};
    for (int i = 0; i < CATEGORIES_MAX; i++) st.wanted[i] = out->records ? -2 : -1;
    Py_buffer view = {NULL};
    int result = -1;
    PyObject *made_start = NULL; /* the int of a packed start, while a call needs it */
    if (direct != NULL) {
        st.setups = PyMem_Calloc((size_t)kinds + 1, sizeof *st.setups);
        st.rules = PyMem_Calloc((size_t)kinds + 1, sizeof *st.rules);
        if (st.setups == NULL || st.rules == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t k = 0; k < kinds; k++) {
            PyObject *entry = PyTuple_GET_ITEM(direct, k);
            if (entry == Py_None) continue;
            if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2) {
                PyErr_SetString(PyExc_TypeError, "direct entries are None or (set-up, rule)");
                goto done;
            }
            st.setups[k] = hot_setup_of(PyTuple_GET_ITEM(entry, 0));
            long rule = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
            if (st.setups[k] == NULL || (rule == -1 && PyErr_Occurred())) goto done;
            st.rules[k] = (int)rule;
        }
        if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0) goto done;
    }
    /* Packed starts (position << 8 | kind): a position becomes an int only for a Python call. */
    int packed = PyBytes_Check(starts);
    if (packed && PyBytes_GET_SIZE(starts) % (Py_ssize_t)sizeof(uint64_t)) {
        PyErr_SetString(PyExc_ValueError, "packed keys are 8 bytes each");
        goto done;
    }
    Py_ssize_t count = packed ? PyBytes_GET_SIZE(starts) / (Py_ssize_t)sizeof(uint64_t)
                              : PyList_GET_SIZE(starts);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_CLEAR(made_start);
        PyObject *start = NULL;
        Py_ssize_t at, kind;
        if (packed) {
            uint64_t key;
            memcpy(&key, PyBytes_AS_STRING(starts) + i * (Py_ssize_t)sizeof key, sizeof key);
            at = (Py_ssize_t)(key >> 8);
            kind = (Py_ssize_t)(key & 255);
        } else {
            PyObject *pair = PyList_GET_ITEM(starts, i);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "starts are (start, kind) tuples");
                goto done;
            }
            start = PyTuple_GET_ITEM(pair, 0);
            at = PyLong_AsSsize_t(start);
            kind = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
            if ((at == -1 || kind == -1) && PyErr_Occurred()) goto done;
        }
        if (at < covered) continue;
        if (kind < 0 || kind >= kinds) {
            PyErr_SetString(PyExc_ValueError, "a kind beyond the confirmations");
            goto done;
        }
        PyObject *hit;
        if (st.setups != NULL && st.setups[kind] != NULL) {
            hit_t h;
            PyObject *fallback;
            int verdict = hot_confirm_direct(st.setups[kind], st.rules[kind], view.buf, view.len,
                                             at, origin, &h, &fallback);
            if (verdict < 0) goto done;
            if (verdict == 0) continue;
            if (verdict == 1) {
                covered = h.end;
                if (out->records) {
                    if (record_of_hit(&h, origin, floor, hi, ho, out, &st) < 0) goto done;
                    continue;
                }
                PyObject *row = finding_of_hit(&h, origin, floor, out->wanted, out->rounded, hi,
                                               ho, out->finding, &st);
                if (row == Py_None) continue;
                if (hot_append(out->found, row) < 0) goto done;
                continue;
            }
            if (start == NULL && (start = made_start = PyLong_FromSsize_t(at)) == NULL) goto done;
            PyObject *call[3] = {buffer, start, base};
            hit = PyObject_Vectorcall(fallback, call, 3, NULL); /* undecided: Python decides */
        } else {
            if (start == NULL && (start = made_start = PyLong_FromSsize_t(at)) == NULL) goto done;
            PyObject *call[3] = {buffer, start, base};
            hit = PyObject_Vectorcall(PyTuple_GET_ITEM(confirms, kind), call, 3, NULL);
        }
        if (hit == NULL) goto done;
        int put = hit == Py_None ? 0 : put_hit(hit, origin, floor, hi, ho, out, &covered);
        Py_DECREF(hit);
        if (put < 0) goto done;
    }
    result = 0;
done:
    Py_CLEAR(made_start);
    if (view.obj != NULL) PyBuffer_Release(&view);
    PyMem_Free(st.setups);
    PyMem_Free(st.rules);
    return result;
}

/* ---- a page's candidates confirmed (scanners.fastpath.RawMatcher.scan) -------------------
 *
 * confirm_all(buffer, base, starts, confirms, wanted, floor, inner, outer, finding, rounded[,
 * direct]) -> [finding, ...]: for each (start, kind) of `starts` (sorted) not inside the value
 * found before it, confirms[kind](buffer, start, base) gives None or (category, confidence,
 * normalized, begin, end); a value of a `wanted` category at `floor` or more becomes
 * finding(category, base + begin, end - begin, rounded confidence, hex HMAC-SHA256 of the
 * normalized value from the `inner` and `outer` midstates). `rounded` maps a confidence to its
 * shown value, round(confidence, 3), and learns the ones it lacks. `direct`, one entry a kind:
 * None, or the (set-up, rule number) of the kind's C confirmation (confirm_setup's capsule and
 * the index of its function in RULES), which is then judged here, with no call and no tuple a
 * candidate; only what it leaves undecided goes to the set-up's fallback, as the function
 * hands it. The list is in the order found: the caller sorts it.
 * The loop in Python cost about 1 us a value: the call, the tuple unpacking, the finding (a
 * named tuple built through its Python __new__), the digest's argument parsing. */
static PyObject *confirm_all(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 10 || nargs > 11 || !(PyList_Check(args[2]) || PyBytes_Check(args[2])) ||
        !PyTuple_Check(args[3]) ||
        !PyAnySet_Check(args[4]) || !PyType_Check(args[8]) || !PyDict_Check(args[9]) ||
        (nargs == 11 && args[10] != Py_None &&
         (!PyTuple_Check(args[10]) || PyTuple_GET_SIZE(args[10]) != PyTuple_GET_SIZE(args[3])))) {
        PyErr_SetString(PyExc_TypeError,
                        "confirm_all(buffer, base, starts: list or packed keys, confirms: "
                        "tuple, wanted: set, "
                        "floor, inner, outer, finding: type, rounded: dict[, direct: tuple as "
                        "long as confirms])");
        return NULL;
    }
    PyTypeObject *finding = (PyTypeObject *)args[8];
    if (!PyType_IsSubtype(finding, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "finding is a tuple type of five fields");
        return NULL;
    }
    double floor = PyFloat_AsDouble(args[5]);
    if (floor == -1.0 && PyErr_Occurred()) return NULL;
    uint32_t hi[8], ho[8];
    if (state_from(args[6], hi) < 0 || state_from(args[7], ho) < 0) return NULL;
    sink_t out = {0, PyList_New(0), args[4], args[9], finding, NULL, NULL, 0, 0};
    if (out.found == NULL) return NULL;
    PyObject *direct = nargs == 11 && args[10] != Py_None ? args[10] : NULL;
    if (confirm_loop(args[0], args[1], args[2], args[3], direct, floor, hi, ho, &out) < 0)
        Py_CLEAR(out.found);
    return out.found;
}

/* confirm_records(buffer, base, starts, confirms, index_of, floor, inner, outer[, direct]) ->
 * bytes: confirm_all's values as RECORD-byte records (scanners.records), in the order found,
 * with no Python object a value. `index_of` maps each wanted category to its index in the
 * records; the record keeps the digest's first 16 bytes (what scanners.digests keeps). The
 * raw pass counts its millions of values from these: a Finding, its hex digest and counting it
 * in Python cost about 0.45 us a value, most of a confirmed value's cost. */
static PyObject *confirm_records(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 8 || nargs > 9 || !(PyList_Check(args[2]) || PyBytes_Check(args[2])) ||
        !PyTuple_Check(args[3]) || !PyDict_Check(args[4]) ||
        (nargs == 9 && args[8] != Py_None &&
         (!PyTuple_Check(args[8]) || PyTuple_GET_SIZE(args[8]) != PyTuple_GET_SIZE(args[3])))) {
        PyErr_SetString(PyExc_TypeError,
                        "confirm_records(buffer, base, starts: list or packed keys, confirms: "
                        "tuple, index_of: dict, floor, inner, outer[, direct: tuple as long as "
                        "confirms])");
        return NULL;
    }
    double floor = PyFloat_AsDouble(args[5]);
    if (floor == -1.0 && PyErr_Occurred()) return NULL;
    uint32_t hi[8], ho[8];
    if (state_from(args[6], hi) < 0 || state_from(args[7], ho) < 0) return NULL;
    sink_t out = {1, NULL, NULL, NULL, NULL, args[4], NULL, 0, 0};
    PyObject *direct = nargs == 9 && args[8] != Py_None ? args[8] : NULL;
    PyObject *result = NULL;
    if (confirm_loop(args[0], args[1], args[2], args[3], direct, floor, hi, ho, &out) == 0) {
        hot_records_done(&out.digests, out.rec, hi, ho);
        result = PyBytes_FromStringAndSize((const char *)out.rec, out.n * RECORD);
    }
    PyMem_Free(out.rec);
    return result;
}

PyObject *hot_row(PyTypeObject *type, PyObject **fields, Py_ssize_t n) {
    PyObject *row = NULL;
    int complete = 1;
    for (Py_ssize_t i = 0; i < n; i++) complete = complete && fields[i] != NULL;
    if (complete) row = type->tp_alloc(type, n);
    if (row == NULL) {
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(fields[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(row, i, fields[i]);
    PyObject_GC_UnTrack(row);
    return row;
}

int hot_append(PyObject *list, PyObject *item) {
    if (item == NULL) return -1;
    int failed = PyList_Append(list, item) < 0;
    Py_DECREF(item);
    return failed ? -1 : 0;
}

/* findings_of_names(names, category, floor, inner, outer, finding) -> the names of at least
 * `floor` as findings: scanners.names.name_findings's loop, with the keyed digest from the
 * key's HMAC midstates. `names` are find_names's rows (start, end, confidence, normalized).
 * In Python the loop cost about 1 us a name: the named tuple's Python __new__ and the digest
 * call. */
static PyObject *findings_of_names(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyList_Check(args[0]) || !PyUnicode_Check(args[1]) ||
        !PyType_Check(args[5]) || !PyType_IsSubtype((PyTypeObject *)args[5], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError,
                        "findings_of_names(names: list, category: str, floor, inner, outer, "
                        "finding: type)");
        return NULL;
    }
    PyObject *names = args[0], *category = args[1];
    PyTypeObject *finding = (PyTypeObject *)args[5];
    double floor = PyFloat_AsDouble(args[2]);
    if (floor == -1.0 && PyErr_Occurred()) return NULL;
    uint32_t hi[8], ho[8];
    if (state_from(args[3], hi) < 0 || state_from(args[4], ho) < 0) return NULL;
    PyObject *found = PyList_New(0);
    if (found == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        if (!PyTuple_Check(name) || PyTuple_GET_SIZE(name) != 4 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(name, 3))) {
            PyErr_SetString(PyExc_TypeError, "names are (start, end, confidence, str) rows");
            goto fail;
        }
        PyObject *start = PyTuple_GET_ITEM(name, 0), *confidence = PyTuple_GET_ITEM(name, 2);
        double conf = PyFloat_AsDouble(confidence);
        Py_ssize_t from = PyLong_AsSsize_t(start);
        Py_ssize_t to = PyLong_AsSsize_t(PyTuple_GET_ITEM(name, 1));
        if ((conf == -1.0 || from == -1 || to == -1) && PyErr_Occurred()) goto fail;
        if (conf < floor) continue;
        PyObject *fields[5] = {Py_NewRef(category), Py_NewRef(start), NULL, Py_NewRef(confidence),
                               NULL};
        fields[2] = PyLong_FromSsize_t(to - from);
        fields[4] = fields[2] == NULL ? NULL : hmac_hex_of(hi, ho, PyTuple_GET_ITEM(name, 3));
        if (hot_append(found, hot_row(finding, fields, 5)) < 0) goto fail;
    }
    return found;
fail:
    Py_DECREF(found);
    return NULL;
}

/* ---- counting a run of findings (scanners.report.Tally) ---------------------------------- */

/* group(keys, values) -> {key: [value, ...]}: the values of each key in their order, keys in
 * the order they first come. A page's findings are counted by category: one pass here, where a
 * list comprehension a category read the whole run once for each (on 8 MB of dense documents,
 * three categories: 71 ns a finding, here 18). */
static PyObject *py_group(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_Check(args[0]) || !PyList_Check(args[1]) ||
        PyList_GET_SIZE(args[0]) != PyList_GET_SIZE(args[1])) {
        PyErr_SetString(PyExc_TypeError, "group(keys: list, values: list of the same length)");
        return NULL;
    }
    PyObject *out = PyDict_New(), *last_key = NULL, *last = NULL; /* borrowed */
    for (Py_ssize_t i = 0; out != NULL && i < PyList_GET_SIZE(args[0]); i++) {
        PyObject *key = PyList_GET_ITEM(args[0], i);
        if (key != last_key) { /* a run of one category mostly: no lookup */
            last = PyDict_GetItemWithError(out, key);
            if (last == NULL) {
                if (PyErr_Occurred() || (last = PyList_New(0)) == NULL) {
                    Py_CLEAR(out);
                    break;
                }
                int failed = PyDict_SetItem(out, key, last) < 0;
                Py_DECREF(last); /* the dict holds it */
                if (failed) {
                    Py_CLEAR(out);
                    break;
                }
            }
            last_key = key;
        }
        if (PyList_Append(last, PyList_GET_ITEM(args[1], i)) < 0) Py_CLEAR(out);
    }
    return out;
}

/* The value of each hex digit byte; 16 and above for any other byte. */
static unsigned char HEX[256];

static void hex_table(void) {
    memset(HEX, 0xF0, sizeof HEX);
    for (int i = 0; i < 10; i++) HEX['0' + i] = (unsigned char)i;
    for (int i = 0; i < 6; i++) HEX['a' + i] = HEX['A' + i] = (unsigned char)(10 + i);
}

/* hex_heads(digests) -> the first 16 bytes of each 64-character hex digest, back to back; None
 * where one is anything else (scanners.digests then keys it its own way). */
static PyObject *py_hex_heads(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "hex_heads(digests: list)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 16);
    if (out == NULL) return NULL;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyList_GET_ITEM(arg, i);
        if (!PyUnicode_Check(d) || PyUnicode_GET_LENGTH(d) != 64 ||
            PyUnicode_KIND(d) != PyUnicode_1BYTE_KIND) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        const Py_UCS1 *c = PyUnicode_1BYTE_DATA(d);
        unsigned bad = 0; /* all 64 are hex, as bytes.fromhex would ask */
        for (int j = 32; j < 64; j++) bad |= HEX[c[j]];
        for (int j = 0; j < 16; j++) {
            unsigned high = HEX[c[2 * j]], low = HEX[c[2 * j + 1]];
            bad |= high | low;
            w[j] = (unsigned char)(high << 4 | low);
        }
        if (bad & 0xF0) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        w += 16;
    }
    return out;
}

/* ---- calls that make a row a value, without the cyclic collector ------------------------
 *
 * The rows (Finding, NameMatch) are untracked once made, but each allocation still counts
 * towards the collector's next pass: a dense page set one off every 700 findings (3 % of a
 * raw pass). They hold no reference cycle, nor do the loops make any, so the collector rests
 * while they run (it is process-wide: it is enabled again only if it was on before). */
typedef PyObject *(*fastcall_fn)(PyObject *, PyObject *const *, Py_ssize_t);

static PyObject *collector_resting(fastcall_fn fn, PyObject *self, PyObject *const *args,
                                   Py_ssize_t nargs) {
    int was_on = PyGC_Disable();
    PyObject *result = fn(self, args, nargs);
    if (was_on) PyGC_Enable();
    return result;
}

static PyObject *py_confirm_all(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return collector_resting(confirm_all, self, args, nargs);
}

static PyObject *py_findings_of_names(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return collector_resting(findings_of_names, self, args, nargs);
}

static PyObject *py_find_names(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return collector_resting(hot_find_names, self, args, nargs);
}

static PyMethodDef methods[] = {
    {"luhn_valid", py_luhn_valid, METH_O, "True when the last digit is the Luhn check digit."},
    {"pnr_fields", py_pnr_fields, METH_VARARGS,
     "(year, month*100+day, body) of a valid personnummer, else None."},
    {"iban_mod97", py_iban_mod97, METH_O, "ISO 7064 mod 97-10 remainder of an IBAN, or -1."},
    {"sha256_midstate", py_sha256_midstate, METH_O, "SHA-256 state after one 64-byte block."},
    {"hmac_hex", py_hmac_hex, METH_VARARGS, "Hex HMAC-SHA256 from the key's pad midstates."},
    {"pairs_enabled", py_pairs_enabled, METH_O, "Records' digests two at a time (tests)."},
    {"group", (PyCFunction)(void (*)(void))py_group, METH_FASTCALL,
     "group(keys, values) -> {key: [value, ...]} in order."},
    {"hex_heads", py_hex_heads, METH_O,
     "The first 16 bytes of each 64-character hex digest, joined; None for anything else."},
    {"confirm_all", (PyCFunction)(void (*)(void))py_confirm_all, METH_FASTCALL,
     "A page's candidates confirmed into findings (scanners.fastpath.RawMatcher.scan)."},
    {"confirm_records", (PyCFunction)(void (*)(void))confirm_records, METH_FASTCALL,
     "confirm_all's values as 32-byte records (scanners.records), no Python object a value."},
    {"keywords_in", py_keywords_in, METH_VARARGS,
     "Whether a word of the keyword table stands in the window (None beyond Latin-1)."},
    {"high_letters", py_high_letters, METH_O,
     "(runs of one byte 0x7F-0xFF, characters in UTF-8 letters) of a Latin-1 str, else None."},
    {"windows", py_windows, METH_VARARGS,
     "windows(buffer, margin, wide_margin[, limit[, split[, own_limit]]]) -> (stretches of "
     "keyword-free 8-bit values, stretches within `margin` of gated values' digits, runs of "
     "Latin-1 UTF-16LE text widened by `wide_margin`[, IPv6 runs, IBAN runs, stretches within "
     "`margin` of ten digits, runs of digits, space and ( ) + - holding seven digits, runs of "
     "digits and dots holding three dots, with `split`, which leaves out e-mail]), each sorted and "
     "merged (lo, hi) pairs (bytes of native pairs for all `split` gives but the ten digits'); "
     "a list is None past `limit` (`own_limit` for those)."},
    {"email_keys", py_email_keys, METH_VARARGS,
     "email_keys(buffer, spans, index) -> packed keys of the e-mail pattern's starts in the "
     "spans (bytes of (lo, hi) pairs, None: all), as hyperscan reports them."},
    {"ipv4_keys", py_ipv4_keys, METH_VARARGS,
     "ipv4_keys(buffer, spans, index) -> packed keys of the IPv4 pattern's starts in the spans "
     "(bytes of (lo, hi) pairs, None: all), as hyperscan reports them."},
    {"digit_keys", py_digit_keys, METH_VARARGS,
     "digit_keys(buffer, spans, pnr, card, phone) -> packed keys of the personnummer forms', "
     "card numbers' and national phone numbers' starts (those compiled indices) in the spans' "
     "runs of digits, space and ( ) + -, as hyperscan reports them."},
    {"join", py_join, METH_VARARGS,
     "(the spans of the buffer joined by `gap` bytes of 0x01, where each starts in it)."},
    {"findings_of_names", (PyCFunction)(void (*)(void))py_findings_of_names, METH_FASTCALL,
     "find_names's rows of at least `floor` as findings with keyed digests."},
    {"find_name_records", (PyCFunction)(void (*)(void))hot_find_name_records, METH_FASTCALL,
     "find_names's names of at least `floor` straight as records (scanners.records)."},
    {"find_names", (PyCFunction)(void (*)(void))py_find_names, METH_FASTCALL,
     "Person names by scanners.names' rules (find_names), in text order."},
    {"confirm_setup", (PyCFunction)(void (*)(void))hot_confirm_setup, METH_FASTCALL,
     "The set-up of a kind's confirm function (_confirm.c), checked once."},
    {"confirm_pnr", (PyCFunction)(void (*)(void))hot_confirm_pnr, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for a personnummer form in 8-bit text (_confirm.c)."},
    {"confirm_email", (PyCFunction)(void (*)(void))hot_confirm_email, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for an e-mail address in 8-bit text (_confirm.c)."},
    {"confirm_ipv4", (PyCFunction)(void (*)(void))hot_confirm_ipv4, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for an IPv4 address in 8-bit text (_confirm.c)."},
    {"order_starts", (PyCFunction)(void (*)(void))hot_order_starts, METH_FASTCALL,
     "(sorted distinct starts of keyword-free kinds, shifted; shifted kinds' pairs at 0; "
     "{gated kind: sorted positions}) of a page's engine pairs (_confirm.c)."},
    {"merge_starts", (PyCFunction)(void (*)(void))hot_merge_starts, METH_FASTCALL,
     "Sorted distinct starts with more (position, kind) pairs merged in (_confirm.c)."},
    {"confirm_phone", (PyCFunction)(void (*)(void))hot_confirm_phone, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for a Swedish phone number in 8-bit text (_confirm.c)."},
    {"confirm_card", (PyCFunction)(void (*)(void))hot_confirm_card, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for a payment card number in 8-bit text (_confirm.c)."},
    {"confirm_iban", (PyCFunction)(void (*)(void))hot_confirm_iban, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for an IBAN in 8-bit text (_confirm.c)."},
    {"confirm_bankgiro", (PyCFunction)(void (*)(void))hot_confirm_bankgiro, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for a bankgiro number in 8-bit text (_confirm.c)."},
    {"confirm_dig10", (PyCFunction)(void (*)(void))hot_confirm_dig10, METH_FASTCALL,
     "scanners.candidate.Plan.confirm for a bare ten-digit number in 8-bit text (_confirm.c)."},
    {"textual", (PyCFunction)(void (*)(void))hot_textual, METH_FASTCALL,
     "scanners.context.textual on the Latin-1 reading of two bytes-like windows."},
    {"distinct_rows", hot_distinct_rows, METH_O,
     "16-byte rows (two native uint64 words each), sorted by both words, repeats dropped."},
    {"csv_column", hot_csv_column, METH_VARARGS,
     "csv_column(table, delimiter, n, k, limit, keyword) -> (rest, values), False where a line "
     "does not hold n cells, None where Python must decide (_tables.c)."},
    {"starts", py_starts, METH_VARARGS,
     "Sorted offsets in [start, end) where one of the needles (bytes, two or more each) starts "
     "and ends by `end`."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "scanners._hot",
                                    "Compiled hot path of the raw detectors.", -1, methods};

PyMODINIT_FUNC PyInit__hot(void) {
    init_classes();
#ifdef HAVE_AVX2_PATH
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && getenv("ASSET_PIPELINE_NO_AVX2") == NULL;
    use_avx512 = use_avx2 && __builtin_cpu_supports("avx512bw") &&
                 getenv("ASSET_PIPELINE_NO_AVX512") == NULL;
#endif
    hex_table();
    PyObject *m = PyModule_Create(&module);
    /* SIMD: the widest instruction set the page masks use here. */
#if defined(__SSE2__)
    const char *narrowest = "sse2";
#else
    const char *narrowest = "none";
#endif
    const char *simd = use_avx512 ? "avx512" : use_avx2 ? "avx2" : narrowest;
    if (m != NULL && PyModule_AddStringConstant(m, "SIMD", simd) < 0) Py_CLEAR(m);
    if (m != NULL) {
        PyObject *windows = Py_BuildValue(
            "{sisisisisisisisisi}", "RULE_BEFORE", RULE_BEFORE, "RULE_AFTER", RULE_AFTER,
            "BEFORE", BEFORE, "AFTER", AFTER, "NEGATIVE_WINDOW", NEGATIVE, "TEXT_WINDOW",
            TEXT_WINDOW, "PLAIN_RUN", PLAIN_RUN, "SECTOR", SECTOR, "ADJACENT", ADJACENT);
        if (windows == NULL || PyModule_AddObject(m, "CONFIRM_WINDOWS", windows) < 0) {
            Py_XDECREF(windows);
            Py_CLEAR(m);
        }
    }
    if (m != NULL) { /* confirm_all's rule numbers: the index of a confirm function's name */
        PyObject *rules = hot_rule_names();
        if (rules == NULL || PyModule_AddObject(m, "RULES", rules) < 0) {
            Py_XDECREF(rules);
            Py_CLEAR(m);
        }
    }
    return m;
}
