/* A CSV table's personnummer column cut out, in C (scanners.formats.tables.csv_table_items).
 *
 * csv_column(table, delimiter, n, k, limit, keyword) -> (rest, values) | False | None.
 * `table` is the table's text ending in a newline; every line must hold n - 1 `delimiter`s
 * (else False: not a table of that shape). `rest` is the lines after the first with cell k
 * cut out and the other cells joined by tabs, without the last newline; `values` is each
 * non-blank cell k, stripped as str.strip strips and nine digits given their leading zero,
 * behind `keyword` and a space, one a line ("" for none). None where Python must decide:
 * text beyond Latin-1 (str's wider kinds) or a line longer than `limit` (csv's field limit,
 * which only a check of each cell decides).
 *
 * In Python the same took 5.5 ns a byte of the mixed bench's tables (splitting the text at
 * newlines and delimiters into a million strings, joining them again); here one pass over
 * the text writes both. tests/scanners/test_csv_fast.py compares both on fuzzed tables. */
#include "_hot.h"

#include <stdlib.h>
#include <string.h>

/* Whether every line of p[0:len] (ending in '\n') holds `want` delimiters: 1, 0, or -1 for a
 * line longer than `limit`. `lines` gets the number of lines. */
static int every_line(const unsigned char *p, Py_ssize_t len, unsigned char d, Py_ssize_t want,
                      Py_ssize_t limit, Py_ssize_t *lines) {
    int too_long = 0;
    *lines = 0;
    for (Py_ssize_t s = 0; s < len;) {
        const unsigned char *nl = memchr(p + s, '\n', (size_t)(len - s));
        Py_ssize_t e = nl - p, count = 0;
        for (Py_ssize_t i = s; i < e; i++) count += p[i] == d;
        if (count != want) return 0;
        too_long |= e - s > limit;
        ++*lines;
        s = e + 1;
    }
    return too_long ? -1 : 1;
}

/* Cell k of the line p[s:e] (no newline; n cells) behind the keyword into `values`, the
 * other cells into `rest`, each ending in a newline, moving both ends on. The buffers are
 * large enough. Stripped and digits as str.strip and str.isdigit take them. */
static void cut_line(const unsigned char *p, Py_ssize_t s, Py_ssize_t e, unsigned char d,
                     Py_ssize_t k, const unsigned char *kw, Py_ssize_t kwlen, unsigned char **rest,
                     unsigned char **values) {
    unsigned char *r = *rest;
    Py_ssize_t from = s;
    int first = 1;
    for (Py_ssize_t cell = 0;; cell++) {
        const unsigned char *at = memchr(p + from, d, (size_t)(e - from));
        Py_ssize_t to = at == NULL ? e : at - p;
        if (cell == k) {
            Py_ssize_t lo = from, hi = to;
            while (lo < hi && Py_UNICODE_ISSPACE(p[lo])) lo++;
            while (hi > lo && Py_UNICODE_ISSPACE(p[hi - 1])) hi--;
            if (hi > lo) {
                int nine = hi - lo == 9;
                for (Py_ssize_t j = lo; nine && j < hi; j++) nine = Py_UNICODE_ISDIGIT(p[j]);
                unsigned char *v = *values;
                memcpy(v, kw, (size_t)kwlen);
                v += kwlen;
                *v++ = ' ';
                if (nine) *v++ = '0';
                memcpy(v, p + lo, (size_t)(hi - lo));
                v += hi - lo;
                *v++ = '\n';
                *values = v;
            }
        } else {
            if (!first) *r++ = '\t';
            first = 0;
            memcpy(r, p + from, (size_t)(to - from));
            r += to - from;
        }
        if (at == NULL) break;
        from = to + 1;
    }
    *r++ = '\n';
    *rest = r;
}

PyObject *hot_csv_column(PyObject *self, PyObject *args) {
    PyObject *table, *delimiter, *keyword;
    Py_ssize_t n, k, limit;
    if (!PyArg_ParseTuple(args, "UUnnnU", &table, &delimiter, &n, &k, &limit, &keyword))
        return NULL;
    if (PyUnicode_READY(table) < 0 || PyUnicode_READY(delimiter) < 0 ||
        PyUnicode_READY(keyword) < 0)
        return NULL;
    if (PyUnicode_GET_LENGTH(delimiter) != 1 || n < 2 || k < 0 || k >= n) {
        PyErr_SetString(PyExc_ValueError, "one delimiter character, and 0 <= k < n, 2 <= n");
        return NULL;
    }
    if (PyUnicode_KIND(table) != PyUnicode_1BYTE_KIND ||
        PyUnicode_KIND(keyword) != PyUnicode_1BYTE_KIND ||
        PyUnicode_READ_CHAR(delimiter, 0) > 0xFF)
        Py_RETURN_NONE;
    const unsigned char *p = PyUnicode_1BYTE_DATA(table);
    Py_ssize_t len = PyUnicode_GET_LENGTH(table);
    unsigned char d = (unsigned char)PyUnicode_READ_CHAR(delimiter, 0);
    if (len == 0 || p[len - 1] != '\n' || d == '\n') {
        PyErr_SetString(PyExc_ValueError, "a table ends in a newline; no newline delimiter");
        return NULL;
    }
    int shape;
    Py_ssize_t lines;
    Py_BEGIN_ALLOW_THREADS
    shape = every_line(p, len, d, n - 1, limit, &lines);
    Py_END_ALLOW_THREADS
    if (shape == 0) Py_RETURN_FALSE;
    if (shape < 0) Py_RETURN_NONE;
    const unsigned char *kw = PyUnicode_1BYTE_DATA(keyword);
    Py_ssize_t kwlen = PyUnicode_GET_LENGTH(keyword);
    /* The rest is no longer than the text; each value grows by the keyword, a space, a zero
     * and a newline at most. */
    unsigned char *rest = malloc((size_t)len + 1);
    unsigned char *values = malloc((size_t)(len + lines * (kwlen + 3)) + 1);
    unsigned char *r = rest, *v = values;
    if (rest != NULL && values != NULL) {
        Py_BEGIN_ALLOW_THREADS
        Py_ssize_t s = (const unsigned char *)memchr(p, '\n', (size_t)len) - p + 1;
        while (s < len) {
            Py_ssize_t e = (const unsigned char *)memchr(p + s, '\n', (size_t)(len - s)) - p;
            cut_line(p, s, e, d, k, kw, kwlen, &r, &v);
            s = e + 1;
        }
        Py_END_ALLOW_THREADS
    }
    PyObject *result = NULL;
    if (rest == NULL || values == NULL) {
        PyErr_NoMemory();
    } else {
        Py_ssize_t rest_len = r > rest ? r - rest - 1 : 0; /* both without their last newline */
        Py_ssize_t values_len = v > values ? v - values - 1 : 0;
        PyObject *rs = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, rest, rest_len);
        PyObject *vs = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, values, values_len);
        if (rs != NULL && vs != NULL) result = PyTuple_Pack(2, rs, vs);
        Py_XDECREF(rs);
        Py_XDECREF(vs);
    }
    free(rest);
    free(values);
    return result;
}
