/* What the sections of scanners._hot share across its source files: _hot.c (the validators,
 * the keyed digest, the context words, the page masks), _confirm.c (whole candidate
 * confirmations, built on the former) and _names.c (person names). */
#ifndef SCANNERS_HOT_H
#define SCANNERS_HOT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

/* The windows of the confirmations in _confirm.c: scanners.rules' RULE_BEFORE and RULE_AFTER,
 * scanners.context's BEFORE, AFTER, NEGATIVE_WINDOW, TEXT_WINDOW and PLAIN_RUN, candidate's
 * SECTOR, and the 8 of context._ADJACENT. The module lists them as CONFIRM_WINDOWS, and
 * scanners.candidate confirms in C only while they equal Python's. */
enum {
    RULE_BEFORE = 96, RULE_AFTER = 64, BEFORE = 48, AFTER = 24, NEGATIVE = 24, TEXT_WINDOW = 24,
    PLAIN_RUN = 16, SECTOR = 512, ADJACENT = 8
};

#endif
