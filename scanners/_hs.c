/* Hyperscan block-mode scanning through the system's libhs (Debian: libhyperscan-dev), with
 * every match collected in C.
 *
 * The `hyperscan` Python binding calls a Python function for each match, taking the GIL back
 * for it. On 32 MB of dense documents (a value every 45 bytes, a million matches) the engine took
 * 0.39 us a match through the binding and 0.24 us through this module, everything included.
 * Here the matches go into a C array while the GIL is released, and the list of (position, id)
 * pairs is built once at the end. FLAG_DOTALL and FLAG_SOM_LEFTMOST are libhs's flags, so
 * that a caller need not load the binding for them.
 *
 * compile(expressions, flags, ids) -> bytes: a serialized block-mode database (hs_compile_multi
 *     with the same expressions, flags and ids as the binding gets); ValueError on a pattern
 *     libhs refuses.
 * Database(serialized, ends): a loaded database. `ends` is a bytes mask by id: 1 where a
 *     match reports its end (patterns without start-of-match tracking), else its start.
 * Database.scan(data, scale=1, shift=0, ids=None, packed=False) -> [(position * scale + shift,
 *     id)], in the order libhs reports them; `ids` (a tuple) maps the database's ids to the
 *     ones reported. `packed`: the same as bytes of native uint64 keys, position << 8 | id.
 * Database.scan_spans(data, spans, gap) -> packed keys of the matches in the spans (lo, hi) of
 *     `data` (a list of pairs, or bytes of native Py_ssize_t pairs), joined by `gap` bytes of
 *     0x01 and scanned once, each position mapped back to `data` (an end from the span its last
 *     byte lies in): scanners.engines.hyperscan._scan_stretches without a Python step a match.
 * version() -> libhs's version string.
 *
 * scanners.engines.hyperscan uses this where it is built, else the binding; tests compare the
 * two on fuzzed buffers. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    hs_database_t *db;
    hs_scratch_t *scratch; /* the prototype each scan clones: a Database is shared by threads */
    unsigned char *ends;
    Py_ssize_t nends;
} Database;

typedef struct {
    unsigned long long position;
    unsigned int id;
} match_t;

typedef struct {
    match_t *items;
    size_t count, room;
    const unsigned char *ends;
    Py_ssize_t nends;
    int failed;
} matches_t;

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *context) {
    (void)flags;
    matches_t *m = context;
    if (m->count == m->room) {
        size_t room = m->room ? 2 * m->room : 4096;
        match_t *grown = realloc(m->items, room * sizeof *grown);
        if (grown == NULL) {
            m->failed = 1;
            return 1; /* stop the scan */
        }
        m->items = grown;
        m->room = room;
    }
    int end = (Py_ssize_t)id < m->nends && m->ends[id];
    m->items[m->count].position = end ? to : from;
    m->items[m->count].id = id;
    m->count++;
    return 0;
}

static PyObject *hs_error(const char *what, hs_error_t err) {
    PyErr_Format(PyExc_RuntimeError, "libhs %s failed (error %d)", what, (int)err);
    return NULL;
}

static int Database_init(Database *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"serialized", "ends", NULL};
    Py_buffer blob, ends;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*y*", kwlist, &blob, &ends)) return -1;
    hs_database_t *db = NULL;
    hs_error_t err = hs_deserialize_database(blob.buf, (size_t)blob.len, &db);
    PyBuffer_Release(&blob);
    if (err != HS_SUCCESS) {
        PyBuffer_Release(&ends);
        PyErr_Format(PyExc_ValueError, "not a database libhs can load (error %d)", (int)err);
        return -1;
    }
    hs_scratch_t *scratch = NULL;
    err = hs_alloc_scratch(db, &scratch);
    unsigned char *mask = PyMem_RawMalloc(ends.len ? (size_t)ends.len : 1);
    if (err != HS_SUCCESS || mask == NULL) {
        hs_free_database(db);
        if (scratch != NULL) hs_free_scratch(scratch);
        PyMem_RawFree(mask);
        PyBuffer_Release(&ends);
        if (err != HS_SUCCESS) hs_error("hs_alloc_scratch", err);
        else PyErr_NoMemory();
        return -1;
    }
    memcpy(mask, ends.buf, (size_t)ends.len);
    PyBuffer_Release(&ends);
    if (self->db != NULL) hs_free_database(self->db); /* __init__ called twice */
    if (self->scratch != NULL) hs_free_scratch(self->scratch);
    PyMem_RawFree(self->ends);
    self->db = db;
    self->scratch = scratch;
    self->ends = mask;
    self->nends = ends.len;
    return 0;
}

static void Database_dealloc(Database *self) {
    if (self->scratch != NULL) hs_free_scratch(self->scratch);
    if (self->db != NULL) hs_free_database(self->db);
    PyMem_RawFree(self->ends);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The matches as bytes of native uint64 keys, (position * scale + shift) << 8 | id, with `ids`
 * mapping the ids: a page's candidates without a tuple and two ints each. */
static PyObject *packed_keys(const matches_t *m, Py_ssize_t scale, Py_ssize_t shift,
                             PyObject *ids) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(m->count * sizeof(uint64_t)));
    if (out == NULL) return NULL;
    uint64_t *keys = (uint64_t *)PyBytes_AS_STRING(out);
    for (size_t i = 0; i < m->count; i++) {
        long long id = m->items[i].id;
        if (ids != Py_None) {
            if ((Py_ssize_t)id >= PyTuple_GET_SIZE(ids)) {
                PyErr_SetString(PyExc_KeyError, "a match id beyond `ids`");
                Py_DECREF(out);
                return NULL;
            }
            id = PyLong_AsLongLong(PyTuple_GET_ITEM(ids, id));
            if (id == -1 && PyErr_Occurred()) {
                Py_DECREF(out);
                return NULL;
            }
        }
        long long position = (long long)m->items[i].position * scale + shift;
        if (id < 0 || id > 255 || position < 0 || position >= (1LL << 55)) {
            PyErr_SetString(PyExc_ValueError, "packed keys take ids 0-255 and positions >= 0");
            Py_DECREF(out);
            return NULL;
        }
        keys[i] = (uint64_t)position << 8 | (uint64_t)id;
    }
    return out;
}

static PyObject *Database_scan(Database *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"data", "scale", "shift", "ids", "packed", NULL};
    Py_buffer data;
    Py_ssize_t scale = 1, shift = 0;
    PyObject *ids = Py_None;
    int packed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*|nnOp", kwlist, &data, &scale, &shift, &ids,
                                     &packed))
        return NULL;
    if (self->db == NULL) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "database not loaded");
        return NULL;
    }
    if (ids != Py_None && !PyTuple_Check(ids)) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_TypeError, "ids must be a tuple or None");
        return NULL;
    }
    if ((unsigned long long)data.len > UINT_MAX) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "a buffer of 4 GiB or more");
        return NULL;
    }
    matches_t m = {NULL, 0, 0, self->ends, self->nends, 0};
    hs_scratch_t *scratch = NULL;
    hs_error_t err;
    Py_BEGIN_ALLOW_THREADS
    err = hs_clone_scratch(self->scratch, &scratch);
    if (err == HS_SUCCESS)
        err = hs_scan(self->db, data.buf, (unsigned int)data.len, 0, scratch, on_match, &m);
    if (scratch != NULL) hs_free_scratch(scratch);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    if (m.failed) {
        free(m.items);
        return PyErr_NoMemory();
    }
    if (err != HS_SUCCESS) {
        free(m.items);
        return hs_error("hs_scan", err);
    }
    if (packed) {
        PyObject *keys = packed_keys(&m, scale, shift, ids);
        free(m.items);
        return keys;
    }
    PyObject *out = PyList_New((Py_ssize_t)m.count);
    for (size_t i = 0; out != NULL && i < m.count; i++) {
        PyObject *id;
        if (ids == Py_None) {
            id = PyLong_FromUnsignedLong(m.items[i].id);
        } else if ((Py_ssize_t)m.items[i].id < PyTuple_GET_SIZE(ids)) {
            id = Py_NewRef(PyTuple_GET_ITEM(ids, m.items[i].id));
        } else {
            PyErr_SetString(PyExc_KeyError, "a match id beyond `ids`");
            id = NULL;
        }
        PyObject *position =
            id == NULL ? NULL
                       : PyLong_FromLongLong((long long)m.items[i].position * scale + shift);
        PyObject *pair = position == NULL ? NULL : PyTuple_Pack(2, position, id);
        Py_XDECREF(position);
        Py_XDECREF(id);
        if (pair == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, pair);
    }
    free(m.items);
    return out;
}

/* The spans as C arrays: from bytes of Py_ssize_t pairs or a sequence of (lo, hi); each cut to
 * [0, n]. Returns the count, or -1 with an exception set. */
static Py_ssize_t read_spans(PyObject *spans, Py_ssize_t n, Py_ssize_t **lo, Py_ssize_t **hi) {
    Py_ssize_t count;
    *lo = *hi = NULL;
    if (PyBytes_Check(spans)) {
        if (PyBytes_GET_SIZE(spans) % (Py_ssize_t)(2 * sizeof(Py_ssize_t))) {
            PyErr_SetString(PyExc_ValueError, "spans bytes are whole (lo, hi) pairs");
            return -1;
        }
        count = PyBytes_GET_SIZE(spans) / (Py_ssize_t)(2 * sizeof(Py_ssize_t));
    } else {
        spans = PySequence_Fast(spans, "spans must be bytes or a sequence of (lo, hi)");
        if (spans == NULL) return -1;
        count = PySequence_Fast_GET_SIZE(spans);
    }
    *lo = PyMem_Malloc((size_t)(count ? count : 1) * sizeof **lo);
    *hi = PyMem_Malloc((size_t)(count ? count : 1) * sizeof **hi);
    if (*lo == NULL || *hi == NULL) {
        PyErr_NoMemory();
        count = -1;
    }
    for (Py_ssize_t i = 0; count > 0 && i < count; i++) {
        Py_ssize_t a, b;
        if (PyBytes_Check(spans)) {
            const Py_ssize_t *pair = (const Py_ssize_t *)PyBytes_AS_STRING(spans) + 2 * i;
            a = pair[0];
            b = pair[1];
        } else if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(spans, i), "nn", &a, &b)) {
            count = -1;
            break;
        }
        a = a < 0 ? 0 : a > n ? n : a;
        (*lo)[i] = a;
        (*hi)[i] = b < a ? a : b > n ? n : b;
    }
    if (!PyBytes_Check(spans)) Py_DECREF(spans);
    if (count < 0) {
        PyMem_Free(*lo);
        PyMem_Free(*hi);
        *lo = *hi = NULL;
    }
    return count;
}

static PyObject *Database_scan_spans(Database *self, PyObject *args) {
    Py_buffer data;
    PyObject *spans;
    Py_ssize_t gap;
    if (!PyArg_ParseTuple(args, "y*On", &data, &spans, &gap)) return NULL;
    Py_ssize_t *lo = NULL, *hi = NULL, *origin = NULL;
    unsigned char *joined = NULL;
    PyObject *out = NULL;
    matches_t m = {NULL, 0, 0, self->ends, self->nends, 0};
    Py_ssize_t count = read_spans(spans, data.len, &lo, &hi);
    if (count < 0) goto done;
    if (self->db == NULL || gap < 0) {
        PyErr_SetString(self->db == NULL ? PyExc_RuntimeError : PyExc_ValueError,
                        self->db == NULL ? "database not loaded" : "gap must not be negative");
        goto done;
    }
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < count; i++) size += (i ? gap : 0) + hi[i] - lo[i];
    if ((unsigned long long)size > UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "spans of 4 GiB or more");
        goto done;
    }
    origin = PyMem_Malloc((size_t)(count ? count : 1) * sizeof *origin);
    joined = PyMem_Malloc((size_t)(size ? size : 1));
    if (origin == NULL || joined == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    hs_error_t err = HS_SUCCESS;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i) {
            memset(joined + at, 1, (size_t)gap);
            at += gap;
        }
        origin[i] = at;
        memcpy(joined + at, (const unsigned char *)data.buf + lo[i], (size_t)(hi[i] - lo[i]));
        at += hi[i] - lo[i];
    }
    if (count) {
        hs_scratch_t *scratch = NULL;
        err = hs_clone_scratch(self->scratch, &scratch);
        if (err == HS_SUCCESS)
            err = hs_scan(self->db, (const char *)joined, (unsigned int)size, 0, scratch,
                          on_match, &m);
        if (scratch != NULL) hs_free_scratch(scratch);
    }
    /* Back to `data`: the span holding the start (the last byte of an end), found by halving. */
    for (size_t k = 0; err == HS_SUCCESS && !m.failed && k < m.count; k++) {
        unsigned id = m.items[k].id;
        long long pos = (long long)m.items[k].position;
        long long byte = (Py_ssize_t)id < self->nends && self->ends[id] ? pos - 1 : pos;
        Py_ssize_t a = 0, b = count; /* the last span whose origin <= byte */
        while (b - a > 1) {
            Py_ssize_t mid = (a + b) / 2;
            if (origin[mid] <= byte) a = mid;
            else b = mid;
        }
        m.items[k].position = (unsigned long long)(pos + lo[a] - origin[a]);
    }
    Py_END_ALLOW_THREADS
    if (m.failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (err != HS_SUCCESS) {
        hs_error("hs_scan", err);
        goto done;
    }
    out = packed_keys(&m, 1, 0, Py_None);
done:
    PyBuffer_Release(&data);
    PyMem_Free(lo);
    PyMem_Free(hi);
    PyMem_Free(origin);
    PyMem_Free(joined);
    free(m.items);
    return out;
}

static PyMethodDef Database_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))Database_scan, METH_VARARGS | METH_KEYWORDS,
     "scan(data, scale=1, shift=0, ids=None) -> [(position * scale + shift, id)]"},
    {"scan_spans", (PyCFunction)Database_scan_spans, METH_VARARGS,
     "scan_spans(data, spans, gap) -> packed keys of the matches in the joined spans, at "
     "their places in `data`"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DatabaseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "scanners._hs.Database",
    .tp_basicsize = sizeof(Database),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A block-mode database loaded from compile()'s bytes, and its scratch.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Database_init,
    .tp_dealloc = (destructor)Database_dealloc,
    .tp_methods = Database_methods,
};

static PyObject *py_compile(PyObject *self, PyObject *args) {
    PyObject *expressions, *flags, *ids;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyList_Type, &expressions, &PyList_Type, &flags,
                          &PyList_Type, &ids))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(expressions);
    if (n == 0 || PyList_GET_SIZE(flags) != n || PyList_GET_SIZE(ids) != n) {
        PyErr_SetString(PyExc_ValueError, "as many flags and ids as expressions, at least one");
        return NULL;
    }
    const char **exprs = PyMem_Calloc((size_t)n, sizeof *exprs);
    unsigned int *fl = PyMem_Calloc((size_t)n, sizeof *fl);
    unsigned int *id = PyMem_Calloc((size_t)n, sizeof *id);
    PyObject *result = NULL;
    if (exprs == NULL || fl == NULL || id == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(expressions, i);
        if (!PyBytes_Check(e)) {
            PyErr_SetString(PyExc_TypeError, "expressions are bytes");
            goto done;
        }
        exprs[i] = PyBytes_AS_STRING(e);
        if ((Py_ssize_t)strlen(exprs[i]) != PyBytes_GET_SIZE(e)) { /* libhs reads C strings */
            PyErr_Format(PyExc_ValueError, "pattern %zd holds a NUL byte", i);
            goto done;
        }
        fl[i] = (unsigned int)PyLong_AsUnsignedLong(PyList_GET_ITEM(flags, i));
        id[i] = (unsigned int)PyLong_AsUnsignedLong(PyList_GET_ITEM(ids, i));
        if (PyErr_Occurred()) goto done;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *error = NULL;
    hs_error_t err;
    Py_BEGIN_ALLOW_THREADS
    err = hs_compile_multi(exprs, fl, id, (unsigned int)n, HS_MODE_BLOCK, NULL, &db, &error);
    Py_END_ALLOW_THREADS
    if (err != HS_SUCCESS) {
        if (error != NULL) {
            PyErr_Format(PyExc_ValueError, "pattern %d: %s", error->expression, error->message);
            hs_free_compile_error(error);
        } else {
            hs_error("hs_compile_multi", err);
        }
        goto done;
    }
    char *bytes = NULL;
    size_t length = 0;
    err = hs_serialize_database(db, &bytes, &length);
    hs_free_database(db);
    if (err != HS_SUCCESS) {
        hs_error("hs_serialize_database", err);
        goto done;
    }
    result = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)length);
    free(bytes); /* allocated by libhs's default allocator, malloc */
done:
    PyMem_Free(exprs);
    PyMem_Free(fl);
    PyMem_Free(id);
    return result;
}

static PyObject *py_version(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(hs_version());
}

static PyMethodDef methods[] = {
    {"compile", py_compile, METH_VARARGS,
     "compile(expressions, flags, ids) -> bytes: a serialized block-mode database."},
    {"version", py_version, METH_NOARGS, "libhs's version string."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "scanners._hs",
    "Hyperscan block-mode scanning through libhs, matches collected in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__hs(void) {
    if (hs_valid_platform() != HS_SUCCESS) {
        PyErr_SetString(PyExc_ImportError, "this CPU lacks what libhs needs (SSSE3)");
        return NULL;
    }
    if (PyType_Ready(&DatabaseType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "FLAG_DOTALL", HS_FLAG_DOTALL) < 0 ||
        PyModule_AddIntConstant(m, "FLAG_SOM_LEFTMOST", HS_FLAG_SOM_LEFTMOST) < 0 ||
        PyModule_AddObjectRef(m, "Database", (PyObject *)&DatabaseType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
