/* python_module.c — `_tickq`, the builtin module through which the
 * strategy runner (python_runner.py) reads the host's frame
 * (python_frame.h), writes what a strategy prints and ends an evaluation
 * the guard refuses (python_guard.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "strategy/python_module.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "data/feature.h"
#include "strategy/python_frame.h"
#include "strategy/python_guard.h"
#include "strategy/sandbox.h"

static size_t g_printed;                /* bytes the evaluation printed (each starts at 0: the host prints nothing) */

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
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(python_frame_rows() * sizeof(double)));
    if (out == NULL)
        return NULL;
    if (python_frame_column(name, (double *)(void *)PyByteArray_AS_STRING(out), err, sizeof err) != 0) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    return out;
}

static PyObject *mod_tickers(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *list = PyList_New((Py_ssize_t)python_frame_rows());
    if (list == NULL)
        return NULL;
    Py_ssize_t r = 0;
    for (size_t i = 0; i < python_frame_series_count(); i++) {
        const char *symbol;
        const int64_t *ts;
        size_t lo, hi;
        python_frame_series(i, &symbol, &ts, &lo, &hi);
        PyObject *name = PyUnicode_FromString(symbol);
        if (name == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        for (size_t k = lo; k < hi; k++) {
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
    PyObject *list = PyList_New((Py_ssize_t)python_frame_rows());
    if (list == NULL)
        return NULL;
    Py_ssize_t r = 0;
    int daily = python_frame_daily();
    for (size_t i = 0; i < python_frame_series_count(); i++) {
        const char *symbol;
        const int64_t *ts;
        size_t lo, hi;
        python_frame_series(i, &symbol, &ts, &lo, &hi);
        for (size_t k = lo; k < hi; k++) {
            char d[CLOCK_DATE_LEN];
            clock_format_bar(daily, ts[k], d);
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
    size_t room = SANDBOX_OUTPUT_MAX + 1 > g_printed ? SANDBOX_OUTPUT_MAX + 1 - g_printed : 0;
    size_t n = (size_t)len < room ? (size_t)len : room;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(1, text + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    g_printed += n;
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

PyObject *python_module_init(void)
{
    return PyModule_Create(&mod_def);
}
