/* python_memory.c — whether a Python evaluation ran out of memory
 * (python_memory.h): thin hooks that call the allocators they replace and
 * note a NULL answer to a request for bytes. Built with numpy's headers
 * (Makefile: NUMPY_INCLUDE). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "strategy/python_memory.h"

#include <stdio.h>
#include <stdlib.h>

static volatile int g_failed;
static PyMemAllocatorEx g_raw, g_mem, g_obj;
static PyObjectArenaAllocator g_arena;

static void *noted(void *p, size_t size)
{
    if (p == NULL && size > 0)
        g_failed = 1;
    return p;
}

static void *hook_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *a = ctx;
    return noted(a->malloc(a->ctx, size), size);
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *a = ctx;
    return noted(a->calloc(a->ctx, nelem, elsize), nelem * elsize);
}

static void *hook_realloc(void *ctx, void *ptr, size_t size)
{
    PyMemAllocatorEx *a = ctx;
    return noted(a->realloc(a->ctx, ptr, size), size);
}

static void hook_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *a = ctx;
    a->free(a->ctx, ptr);
}

static void *arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return noted(g_arena.alloc(g_arena.ctx, size), size);
}

static void arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    g_arena.free(g_arena.ctx, ptr, size);
}

/* numpy's array data: the C library's allocator, noted. */
static void *data_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return noted(malloc(size), size);
}

static void *data_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    return noted(calloc(nelem, elsize), nelem * elsize);
}

static void *data_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return noted(realloc(ptr, size), size);
}

static void data_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    free(ptr);
}

static PyDataMem_Handler g_data_handler = {
    "tickq_noted", 1, { NULL, data_malloc, data_calloc, data_realloc, data_free },
};

static void hook(PyMemAllocatorDomain domain, PyMemAllocatorEx *saved)
{
    PyMem_GetAllocator(domain, saved);
    PyMemAllocatorEx mine = { saved, hook_malloc, hook_calloc, hook_realloc, hook_free };
    PyMem_SetAllocator(domain, &mine);
}

int python_memory_install(char *err, size_t errlen)
{
    hook(PYMEM_DOMAIN_RAW, &g_raw);
    hook(PYMEM_DOMAIN_MEM, &g_mem);
    hook(PYMEM_DOMAIN_OBJ, &g_obj);
    PyObject_GetArenaAllocator(&g_arena);
    PyObjectArenaAllocator mine = { NULL, arena_alloc, arena_free };
    PyObject_SetArenaAllocator(&mine);
    if (_import_array() < 0) {
        PyErr_Clear();
        snprintf(err, errlen, "cannot reach numpy's C API");
        return -1;
    }
    PyObject *capsule = PyCapsule_New(&g_data_handler, "mem_handler", NULL);
    PyObject *old = capsule != NULL ? PyDataMem_SetHandler(capsule) : NULL;
    Py_XDECREF(capsule);
    if (old == NULL) {
        PyErr_Clear();
        snprintf(err, errlen, "cannot set numpy's data-memory handler");
        return -1;
    }
    Py_DECREF(old);
    return 0;
}

void python_memory_reset(void)
{
    g_failed = 0;
}

int python_memory_failed(void)
{
    return g_failed;
}
