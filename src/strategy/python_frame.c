/* python_frame.c — the frame a Python host holds (the bars the worker sent,
 * their window, their feature columns) and the `_tickq` module the runner
 * reads it through: columns computed by the same C code as Lua's df, so
 * both languages see the same numbers, bit for bit. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "strategy/python_frame.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "data/feature.h"
#include "strategy/python_guard.h"
#include "strategy/sandbox.h"

static struct {
    char *payload;               /* the BARS message: the arrays point into it */
    bar_set_t set;
    int daily;
    feature_frame_t features;
    size_t *offset;              /* first row of each series in the feature columns */
    size_t *lo, *hi;             /* the window of each series */
    size_t rows;                 /* sum of hi - lo */
    size_t printed;              /* bytes the evaluation printed (output) */
} g_frame;

size_t python_bars_size(const bar_set_t *set)
{
    size_t n = sizeof(python_bars_head_t) + set->n * sizeof(python_bars_series_t);
    for (size_t i = 0; i < set->n; i++)
        n += set->series[i].n * 6 * 8;
    return n;
}

void python_bars_write(const bar_set_t *set, int daily, char *buf)
{
    python_bars_head_t head;
    memset(&head, 0, sizeof head);
    head.nseries = (uint32_t)set->n;
    head.daily = (uint32_t)daily;
    snprintf(head.interval, sizeof head.interval, "%s", set->interval);
    memcpy(buf, &head, sizeof head);
    char *at = buf + sizeof head;
    for (size_t i = 0; i < set->n; i++) {
        python_bars_series_t s;
        memset(&s, 0, sizeof s);
        snprintf(s.symbol, sizeof s.symbol, "%s", set->series[i].symbol);
        s.n = set->series[i].n;
        memcpy(at, &s, sizeof s);
        at += sizeof s;
    }
    for (size_t i = 0; i < set->n; i++) {
        const bar_series_t *s = &set->series[i];
        size_t bytes = s->n * 8;
        const void *arrays[6] = { s->ts, s->open, s->high, s->low, s->close, s->volume };
        for (int k = 0; k < 6; k++) {
            if (bytes > 0)
                memcpy(at, arrays[k], bytes);
            at += bytes;
        }
    }
}

static void frame_clear(void)
{
    feature_frame_free(&g_frame.features);
    free(g_frame.set.series); /* the arrays live in the payload */
    free(g_frame.payload);
    free(g_frame.offset);
    free(g_frame.lo);
    free(g_frame.hi);
    memset(&g_frame, 0, sizeof g_frame);
}

int python_frame_set_bars(char *payload, size_t len, char *err, size_t errlen)
{
    frame_clear();
    python_bars_head_t head;
    if (len < sizeof head) {
        free(payload);
        snprintf(err, errlen, "bars message too short");
        return -1;
    }
    memcpy(&head, payload, sizeof head);
    size_t n = head.nseries, need = sizeof head + n * sizeof(python_bars_series_t);
    if (n > len / sizeof(python_bars_series_t) || need > len) {
        free(payload);
        snprintf(err, errlen, "bars message too short for %zu series", n);
        return -1;
    }
    g_frame.payload = payload;
    g_frame.daily = head.daily != 0;
    snprintf(g_frame.set.interval, sizeof g_frame.set.interval, "%.*s", BAR_INTERVAL_MAX, head.interval);
    g_frame.set.series = calloc(n ? n : 1, sizeof *g_frame.set.series);
    g_frame.offset = calloc(n ? n : 1, sizeof *g_frame.offset);
    g_frame.lo = calloc(n ? n : 1, sizeof *g_frame.lo);
    g_frame.hi = calloc(n ? n : 1, sizeof *g_frame.hi);
    if (g_frame.set.series == NULL || g_frame.offset == NULL || g_frame.lo == NULL || g_frame.hi == NULL) {
        frame_clear();
        snprintf(err, errlen, "out of memory for %zu series", n);
        return -1;
    }
    g_frame.set.n = g_frame.set.cap = n;
    const char *table = payload + sizeof head, *at = payload + need;
    size_t left = len - need, rows = 0;
    for (size_t i = 0; i < n; i++) {
        python_bars_series_t s;
        memcpy(&s, table + i * sizeof s, sizeof s);
        if (s.n > left / 48) {
            frame_clear();
            snprintf(err, errlen, "bars message too short for series %zu", i);
            return -1;
        }
        bar_series_t *b = &g_frame.set.series[i];
        snprintf(b->symbol, sizeof b->symbol, "%.*s", BAR_SYMBOL_MAX, s.symbol);
        b->n = b->cap = s.n;
        size_t bytes = s.n * 8;
        b->ts = (int64_t *)(void *)at;
        b->open = (double *)(void *)(at + bytes);
        b->high = (double *)(void *)(at + 2 * bytes);
        b->low = (double *)(void *)(at + 3 * bytes);
        b->close = (double *)(void *)(at + 4 * bytes);
        b->volume = (double *)(void *)(at + 5 * bytes);
        at += 6 * bytes;
        left -= 6 * bytes;
        g_frame.offset[i] = rows;
        rows += s.n;
    }
    feature_frame_init(&g_frame.features, &g_frame.set);
    return 0;
}

int python_frame_set_window(const char *payload, size_t len, char *err, size_t errlen)
{
    size_t n = g_frame.set.n;
    if (len != 2 * n * sizeof(uint64_t)) {
        snprintf(err, errlen, "window message of %zu bytes for %zu series", len, n);
        return -1;
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo, hi;
        memcpy(&lo, payload + i * 8, 8);
        memcpy(&hi, payload + (n + i) * 8, 8);
        if (lo > hi || hi > g_frame.set.series[i].n) {
            snprintf(err, errlen, "window [%llu, %llu) outside series %zu", (unsigned long long)lo,
                     (unsigned long long)hi, i);
            return -1;
        }
        g_frame.lo[i] = (size_t)lo;
        g_frame.hi[i] = (size_t)hi;
        rows += (size_t)(hi - lo);
    }
    g_frame.rows = rows;
    return 0;
}

size_t python_frame_rows(void)
{
    return g_frame.rows;
}

/* --- the _tickq module ------------------------------------------------- */

static PyObject *mod_is_feature(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    char err[200];
    if (name == NULL) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    return PyBool_FromLong(feature_name_check(name, err, sizeof err) == 0);
}

static PyObject *mod_column(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    char err[200];
    if (name == NULL || feature_name_check(name, err, sizeof err) != 0) {
        PyErr_Clear();
        PyErr_SetObject(PyExc_KeyError, arg);
        return NULL;
    }
    const double *values = feature_frame_column(&g_frame.features, name, err, sizeof err);
    if (values == NULL)
        return PyErr_NoMemory();
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(g_frame.rows * sizeof(double)));
    if (out == NULL)
        return NULL;
    char *at = PyByteArray_AS_STRING(out);
    for (size_t i = 0; i < g_frame.set.n; i++) {
        size_t k = g_frame.hi[i] - g_frame.lo[i];
        if (k > 0)
            memcpy(at, values + g_frame.offset[i] + g_frame.lo[i], k * sizeof(double));
        at += k * sizeof(double);
    }
    return out;
}

static PyObject *mod_tickers(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *list = PyList_New((Py_ssize_t)g_frame.rows);
    if (list == NULL)
        return NULL;
    Py_ssize_t r = 0;
    for (size_t i = 0; i < g_frame.set.n; i++) {
        PyObject *name = PyUnicode_FromString(g_frame.set.series[i].symbol);
        if (name == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        for (size_t k = g_frame.lo[i]; k < g_frame.hi[i]; k++) {
            Py_INCREF(name);
            PyList_SET_ITEM(list, r++, name);
        }
        Py_DECREF(name);
    }
    return list;
}

static PyObject *mod_dates(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *list = PyList_New((Py_ssize_t)g_frame.rows);
    if (list == NULL)
        return NULL;
    Py_ssize_t r = 0;
    for (size_t i = 0; i < g_frame.set.n; i++) {
        const bar_series_t *s = &g_frame.set.series[i];
        for (size_t k = g_frame.lo[i]; k < g_frame.hi[i]; k++) {
            char d[CLOCK_DATE_LEN];
            clock_format_bar(g_frame.daily, s->ts[k], d);
            PyObject *text = PyUnicode_FromString(d);
            if (text == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, r++, text);
        }
    }
    return list;
}

/* print() in a strategy: straight to the output pipe (fd 1), which the
 * sandbox's reader caps at SANDBOX_OUTPUT_MAX; one byte more than that
 * tells it the output was cut, and the rest is dropped here, so printing
 * 100 MB costs no pipe traffic. */
static PyObject *mod_output(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "write() argument must be str");
        return NULL;
    }
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &len);
    if (text == NULL) { /* lone surrogates: print what can be printed */
        PyErr_Clear();
        PyObject *bytes = PyUnicode_AsEncodedString(arg, "utf-8", "replace");
        if (bytes == NULL)
            return NULL;
        PyObject *fixed = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes), "replace");
        Py_DECREF(bytes);
        if (fixed == NULL)
            return NULL;
        PyObject *r = mod_output(self, fixed);
        Py_DECREF(fixed);
        return r;
    }
    size_t room = SANDBOX_OUTPUT_MAX + 1 > g_frame.printed ? SANDBOX_OUTPUT_MAX + 1 - g_frame.printed : 0;
    size_t n = (size_t)len < room ? (size_t)len : room;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(1, text + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    g_frame.printed += n;
    return PyLong_FromSsize_t(len);
}

/* What the runner refuses before the kernel would (a thread start: glibc
 * blocks signals around clone, so the seccomp trap would kill the child
 * without a word). */
static PyObject *mod_violation(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *what = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    if (what == NULL || python_guard_violation(what) != 0)
        PyErr_SetString(PyExc_RuntimeError, "not available in a strategy");
    return NULL;
}

static PyMethodDef mod_methods[] = {
    { "column", mod_column, METH_O, "column(name) -> bytearray of float64: a df column over the window's rows" },
    { "is_feature", mod_is_feature, METH_O, "is_feature(name) -> bool: a column df can give" },
    { "tickers", mod_tickers, METH_NOARGS, "tickers() -> list of str, one per row" },
    { "dates", mod_dates, METH_NOARGS, "dates() -> list of str, one per row" },
    { "output", mod_output, METH_O, "output(text): what the strategy prints" },
    { "violation", mod_violation, METH_O, "violation(what): ends the evaluation with a security error" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "_tickq", "tickq's frame, for the strategy runner", -1, mod_methods,
    NULL, NULL, NULL, NULL,
};

PyObject *python_frame_module_init(void)
{
    return PyModule_Create(&mod_def);
}
