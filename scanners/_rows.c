/* Distinct keyed-digest rows in sorted order (scanners.digests._distinct), in C.
 *
 * A row is the first 16 bytes of a keyed digest, read as two native unsigned 64-bit words
 * (hi, lo); rows are ordered by hi, then lo, as numpy orders them. numpy's argsort took 50 to
 * 110 ns a row on the AMD EPYC stations (40,000 to 2 million rows), and the raw pass sorts
 * every digest twice (a page's set in its worker, the runs in the parent): 13 % of the CPU
 * of a raw-only scan of the 1.02 GB mixed image.
 *
 * Digests are uniform in their top bits (HMAC-SHA256 under the scan's key, or BLAKE2b), so
 * counting passes on the top bits spread the rows into buckets of one or two rows each: 256
 * buckets by the top byte, then each of those by its next bits (`distinct_sorted`). Each
 * bucket is then sorted by insertion (qsort past a few dozen rows: only many copies of one
 * value or a flood of values sharing top bits make one that large, and equal rows cost
 * insertion sort nothing). 24-25 ns a row from 40,000 to 2 million rows, numpy 73-136. */
#include "_hot.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct {
    uint64_t hi, lo;
} row_t;

static inline int row_less(const row_t *a, const row_t *b) {
    return a->hi < b->hi || (a->hi == b->hi && a->lo < b->lo);
}

static int row_cmp(const void *pa, const void *pb) {
    const row_t *a = pa, *b = pb;
    return row_less(a, b) ? -1 : row_less(b, a) ? 1 : 0;
}

/* Insertion sort: buckets hold a row or two on average. */
static void sort_small(row_t *rows, size_t n) {
    for (size_t i = 1; i < n; i++) {
        row_t r = rows[i];
        size_t j = i;
        while (j > 0 && row_less(&r, &rows[j - 1])) {
            rows[j] = rows[j - 1];
            j--;
        }
        rows[j] = r;
    }
}

#define SMALL_BUCKET 32
#define COARSE_BITS 8
#define MAX_FINE_BITS 16

/* Sort rows[0:n] whose top `used` bits are equal: spread them by their next `bits` bits
 * (counting pass, bits about log2 n, so a bucket holds a row or two) into `spread`, then
 * sort each bucket. `starts` holds 2^bits + 1 counters. */
static void sort_by_buckets(row_t *rows, size_t n, int used, int bits, row_t *spread,
                            size_t *starts) {
    size_t buckets = (size_t)1 << bits;
    int shift = 64 - used - bits;
    uint64_t mask = buckets - 1;
    memset(starts, 0, (buckets + 1) * sizeof *starts);
    for (size_t i = 0; i < n; i++) starts[((rows[i].hi >> shift) & mask) + 1]++;
    for (size_t b = 0; b < buckets; b++) starts[b + 1] += starts[b];
    for (size_t i = 0; i < n; i++) spread[starts[(rows[i].hi >> shift) & mask]++] = rows[i];
    size_t begin = 0;
    for (size_t b = 0; b < buckets; b++) { /* starts[b] is now where bucket b ends */
        size_t size = starts[b] - begin;
        if (size > SMALL_BUCKET)
            qsort(spread + begin, size, sizeof *spread, row_cmp);
        else if (size > 1)
            sort_small(spread + begin, size);
        begin = starts[b];
    }
    memcpy(rows, spread, n * sizeof *rows);
}

/* Buffers of a megabyte and more are mapped from the kernel and unmapped after the call,
 * not taken from malloc: glibc raises its threshold for mapping to the size of the largest
 * block freed, so later blocks of that size came from the heap, which long-lived digest
 * arrays then held in place. A buffer kept between calls from malloc put the scan process of
 * the 4.1 GB mixed image at 266-314 MB where numpy's sort left it at 180-240. */
#define MAPPED_FROM ((size_t)1 << 20)

static void *take(size_t bytes) {
    if (bytes < MAPPED_FROM) return malloc(bytes ? bytes : 1);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void give_back(void *p, size_t bytes) {
    if (p == NULL) return;
    if (bytes < MAPPED_FROM)
        free(p);
    else
        munmap(p, bytes);
}

static int bits_for(size_t n, int most) {
    int bits = 1;
    while (bits < most && ((size_t)1 << bits) < n) bits++;
    return bits;
}

/* The n rows of `in` (any alignment), sorted and distinct, at the start of `spread` (room
 * for n rows); their count, or -1 when memory runs out. Two levels, so that every counting
 * pass writes to few places at once: 256 buckets by the top byte, then each bucket (in cache)
 * by its own next bits. One level of 2^20 buckets over 2 million rows took 46 ns a row (a
 * cache miss a write). */
static Py_ssize_t distinct_sorted(const unsigned char *in, size_t n, row_t *spread) {
    if (n == 0) return 0;
    size_t coarse = (size_t)1 << COARSE_BITS;
    size_t starts[(1 << COARSE_BITS) + 1] = {0};
    int shift = 64 - COARSE_BITS;
    for (size_t i = 0; i < n; i++) {
        uint64_t hi;
        memcpy(&hi, in + 16 * i, 8);
        starts[(hi >> shift) + 1]++;
    }
    size_t largest = 0;
    for (size_t b = 0; b < coarse; b++) {
        if (starts[b + 1] > largest) largest = starts[b + 1];
        starts[b + 1] += starts[b];
    }
    int fine_bits = bits_for(largest, MAX_FINE_BITS);
    size_t fine_bytes = (((size_t)1 << fine_bits) + 1) * sizeof(size_t);
    size_t scratch_bytes = (largest ? largest : 1) * sizeof(row_t);
    size_t *fine_starts = take(fine_bytes);
    row_t *scratch = take(scratch_bytes);
    if (fine_starts == NULL || scratch == NULL) {
        give_back(fine_starts, fine_bytes);
        give_back(scratch, scratch_bytes);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        row_t r;
        memcpy(&r, in + 16 * i, 16);
        spread[starts[r.hi >> shift]++] = r;
    }
    size_t begin = 0, kept = 0;
    for (size_t b = 0; b < coarse; b++) { /* starts[b] is now where bucket b ends */
        size_t end = starts[b], size = end - begin;
        if (size > SMALL_BUCKET)
            sort_by_buckets(spread + begin, size, COARSE_BITS, bits_for(size, MAX_FINE_BITS),
                            scratch, fine_starts);
        else if (size > 1)
            sort_small(spread + begin, size);
        for (size_t i = begin; i < end; i++) { /* kept <= i: distinct rows move to the front */
            if (kept == 0 || spread[i].hi != spread[kept - 1].hi ||
                spread[i].lo != spread[kept - 1].lo)
                spread[kept++] = spread[i];
        }
        begin = end;
    }
    give_back(fine_starts, fine_bytes);
    give_back(scratch, scratch_bytes);
    return (Py_ssize_t)kept;
}

PyObject *hot_distinct_rows(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % 16) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "rows are 16 bytes each");
        return NULL;
    }
    size_t n = (size_t)view.len / 16, bytes = n * sizeof(row_t);
    row_t *spread = take(bytes);
    if (spread == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Py_ssize_t kept;
    Py_BEGIN_ALLOW_THREADS
    kept = distinct_sorted(view.buf, n, spread);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *result =
        kept < 0 ? PyErr_NoMemory() : PyBytes_FromStringAndSize((const char *)spread, kept * 16);
    give_back(spread, bytes);
    return result;
}
