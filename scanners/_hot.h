/* What the sections of scanners._hot share across its source files: _hot.c (the validators,
 * the keyed digest, the context words, the page masks), _confirm.c (whole candidate
 * confirmations, built on the former) and _names.c (person names). */
#ifndef SCANNERS_HOT_H
#define SCANNERS_HOT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* The rules of personnummer._fields on `n` characters at `v`; today is YYYYMMDD. 1 with the
 * year, month * 100 + real day and the ten digits YYMMDDNNNC in `body` when valid, else 0. */
int hot_pnr_fields(const char *v, Py_ssize_t n, long today, long *year, int *month_day,
                   char body[10]);

/* Whether the last of `n` ASCII digits at `s` is their Luhn check digit. */
int hot_luhn(const char *s, Py_ssize_t n);

/* Whether a word of a keyword table (scanners.context._table) stands in the Latin-1 window
 * `w` of `n` characters, in all of it (clause 0), its first clause (1) or its last (-1);
 * -1 for a table too short to be one. */
int hot_keywords(const unsigned char *table, Py_ssize_t table_len, const Py_UCS1 *w,
                 Py_ssize_t n, int clause);

/* Runs of one byte 0x7F-0xFF, and characters in UTF-8 letters, of a Latin-1 window. */
void hot_high_letters(const Py_UCS1 *p, Py_ssize_t n, Py_ssize_t *runs, Py_ssize_t *letters);

/* A row of the tuple type `type` (Finding, NameMatch) holding the `n` new references in
 * `fields`, which it takes; NULL, with every field released, where a field is NULL (its error
 * set) or the row cannot be made. The row is untracked by the cyclic collector: the callers'
 * fields are strings and numbers, which make no reference cycle, and a dense page makes tens of
 * thousands of rows that live on into the report (tracked, the collector's full passes over them
 * were a fifth of a scan; CPython untracks an exact tuple of such fields itself, a subclass
 * not). */
PyObject *hot_row(PyTypeObject *type, PyObject **fields, Py_ssize_t n);

/* Append `item` to `list`, taking its reference; -1 where it is NULL or cannot be appended. */
int hot_append(PyObject *list, PyObject *item);

/* A value a C rule confirmed: what the Python rules give as (category, confidence, normalized,
 * begin, end), with the category as its index in hot_category_name's list. The longest
 * normalized value is an e-mail address: 64 + 1 + 253 characters. */
typedef struct {
    int category;
    double confidence;
    Py_ssize_t length, begin, end;
    char normalized[320];
} hit_t;

/* The interned name of a category index (borrowed), NULL with an error beyond the list. */
PyObject *hot_category_name(int category);

/* A C confirmation by its index in hot_rule_names(): the candidate at `start` of p[0:n], with
 * the set-up of hot_setup_of() (confirm_setup's capsule) and the device offset `origin` of
 * p[0]. 1 with `out` set; 0 for no value; 2 where the set-up's Python fallback decides (it is
 * set in *fallback, borrowed); -1 with an error set. */
int hot_confirm_direct(const void *setup, int rule, const unsigned char *p, Py_ssize_t n,
                       Py_ssize_t start, Py_ssize_t origin, hit_t *out, PyObject **fallback);

/* The set-up inside a confirm_setup capsule; NULL with an error for anything else. */
const void *hot_setup_of(PyObject *capsule);

/* The names of the confirm_* functions in the order hot_confirm_direct numbers them. */
PyObject *hot_rule_names(void);

PyObject *hot_confirm_setup(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_pnr(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_email(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_ipv4(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_order_starts(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_merge_starts(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_phone(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_iban(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_bankgiro(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_dig10(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_confirm_card(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_textual(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_find_names(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *hot_find_name_records(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* A key's HMAC-SHA256 pad midstate (32 bytes) as eight words; -1 with an error. */
int hot_state_from(PyObject *obj, uint32_t h[8]);

/* A short value whose digest waits for the next one's (two are computed at once). */
typedef struct {
    Py_ssize_t waiting; /* 1 + the number of the record it belongs to, or 0 */
    size_t n;
    unsigned char msg[55]; /* a value of up to 55 bytes fills one SHA-256 block */
} digests_t;

/* Record `at` of scanners.records from `base` (32 bytes each): the value's offset, length and
 * category index, and the first 16 bytes of the HMAC-SHA256 of its UTF-8 `msg` from the key's
 * pad midstates. The one place that writes the layout. The digest of a short value may be
 * written only at the next such record, or by hot_records_done: call it before the records
 * are read. `base` may move between calls (a buffer that grows); numbers stay. */
void hot_record_at(digests_t *d, unsigned char *base, Py_ssize_t at, Py_ssize_t offset,
                   Py_ssize_t length, int index, const uint32_t hi[8], const uint32_t ho[8],
                   const char *msg, Py_ssize_t n);
void hot_records_done(digests_t *d, unsigned char *base, const uint32_t hi[8],
                      const uint32_t ho[8]);

/* The windows of the confirmations in _confirm.c: scanners.rules' RULE_BEFORE and RULE_AFTER,
 * scanners.context's BEFORE, AFTER, NEGATIVE_WINDOW, TEXT_WINDOW and PLAIN_RUN, candidate's
 * SECTOR, and the 8 of context._ADJACENT. The module lists them as CONFIRM_WINDOWS, and
 * scanners.candidate confirms in C only while they equal Python's. */
enum {
    RULE_BEFORE = 96, RULE_AFTER = 64, BEFORE = 48, AFTER = 24, NEGATIVE = 24, TEXT_WINDOW = 24,
    PLAIN_RUN = 16, SECTOR = 512, ADJACENT = 8
};

/* distinct_rows(rows) -> bytes (_rows.c): 16-byte digest rows, sorted and distinct. */
PyObject *hot_distinct_rows(PyObject *self, PyObject *arg);

/* csv_column(table, delimiter, n, k, limit, keyword) (_tables.c): a CSV table's column k cut
 * out, as scanners.formats.tables.csv_table_items does it. */
PyObject *hot_csv_column(PyObject *self, PyObject *args);

#endif
