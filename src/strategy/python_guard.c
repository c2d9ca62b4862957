/* python_guard.c — an audit hook that names what a Python strategy tried
 * (python_guard.h). Events: https://docs.python.org/3/library/audit_events.html */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "strategy/python_guard.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/fdio.h"
#include "strategy/sandbox.h"

static const char *const *g_read_dirs; /* NULL: not armed */

/* Ends the evaluation with "Security validation failed: <what>". */
static _Noreturn void violation(const char *what)
{
    char msg[600];
    snprintf(msg, sizeof msg, "Security validation failed: %s", what);
    json_t *env = json_pack("{s:b, s:s, s:s}", "ok", 0, "kind", "security", "message", msg);
    char *text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    if (text != NULL && fdio_write_all(SANDBOX_RESULT_FD, text, strlen(text)) == 0)
        (void)fdio_write_all(SANDBOX_RESULT_FD, "\n", 1);
    _exit(0);
}

/* 1 when path is below one of the readable folders. */
static int readable(const char *path)
{
    size_t len = strlen(path);
    if (path[0] != '/' || strstr(path, "/../") != NULL || (len >= 3 && strcmp(path + len - 3, "/..") == 0))
        return 0;
    for (size_t i = 0; g_read_dirs[i] != NULL; i++) {
        size_t n = strlen(g_read_dirs[i]);
        if (strncmp(path, g_read_dirs[i], n) == 0 && (path[n] == '/' || path[n] == '\0'))
            return 1;
    }
    return 0;
}

/* The path argument of an event, as text ("" for a descriptor). */
static void path_text(PyObject *p, char *out, size_t outlen)
{
    out[0] = '\0';
    if (p == NULL)
        return;
    if (PyUnicode_Check(p)) {
        const char *s = PyUnicode_AsUTF8(p);
        if (s == NULL)
            PyErr_Clear();
        snprintf(out, outlen, "%s", s != NULL ? s : "?");
    } else if (PyBytes_Check(p)) {
        snprintf(out, outlen, "%.*s", (int)PyBytes_GET_SIZE(p), PyBytes_AS_STRING(p));
    }
}

static void check_open(PyObject *args)
{
    PyObject *path = PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    PyObject *flags = PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 2 ? PyTuple_GET_ITEM(args, 2) : NULL;
    long f = flags != NULL && PyLong_Check(flags) ? PyLong_AsLong(flags) : 0;
    char text[400], what[480];
    path_text(path, text, sizeof text);
    if (f & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) {
        snprintf(what, sizeof what, "writing a file (%s)", text[0] ? text : "a descriptor");
        violation(what);
    }
    if (path != NULL && PyLong_Check(path))
        return; /* a descriptor it already has */
    if (strcmp(text, "<strategy>") == 0)
        return; /* Python looking for the source of a syntax error: let the kernel refuse it quietly */
    if (!readable(text)) {
        snprintf(what, sizeof what, "open('%s')", text);
        violation(what);
    }
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_import(PyObject *args)
{
    static const char *const forbidden[] = { "ctypes", "_ctypes", "socket", "_socket", "subprocess",
                                             "_posixsubprocess", "multiprocessing", "mmap", NULL };
    PyObject *name = PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    char text[200];
    path_text(name, text, sizeof text);
    for (size_t i = 0; forbidden[i] != NULL; i++) {
        size_t n = strlen(forbidden[i]);
        if (strncmp(text, forbidden[i], n) == 0 && (text[n] == '\0' || text[n] == '.')) {
            char what[260];
            snprintf(what, sizeof what, "import %s", text);
            violation(what);
        }
    }
}

static int hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (g_read_dirs == NULL)
        return 0;
    if (strcmp(event, "open") == 0)
        check_open(args);
    else if (strcmp(event, "import") == 0)
        check_import(args);
    else if (starts(event, "socket."))
        violation("network access (socket)");
    else if (starts(event, "ctypes."))
        violation("ctypes (native calls and raw memory)");
    else if (strcmp(event, "os.system") == 0)
        violation("os.system");
    else if (strcmp(event, "subprocess.Popen") == 0 || starts(event, "os.exec") ||
             starts(event, "os.posix_spawn") || starts(event, "os.spawn"))
        violation("starting a program (subprocess)");
    else if (starts(event, "os.fork"))
        violation("os.fork");
    else if (strcmp(event, "os.kill") == 0 || strcmp(event, "os.killpg") == 0 ||
             strcmp(event, "signal.pthread_kill") == 0)
        violation("sending a signal (os.kill)");
    else if (strcmp(event, "os.remove") == 0 || strcmp(event, "os.rename") == 0 || strcmp(event, "os.mkdir") == 0 ||
             strcmp(event, "os.rmdir") == 0 || strcmp(event, "os.chmod") == 0 || strcmp(event, "os.chown") == 0 ||
             strcmp(event, "os.link") == 0 || strcmp(event, "os.symlink") == 0 ||
             strcmp(event, "os.truncate") == 0 || strcmp(event, "os.utime") == 0 || strcmp(event, "os.setxattr") == 0 ||
             strcmp(event, "os.removexattr") == 0 || starts(event, "shutil.")) {
        char what[120];
        snprintf(what, sizeof what, "changing files (%s)", event);
        violation(what);
    }
    return 0;
}

int python_guard_install(void)
{
    return PySys_AddAuditHook(hook, NULL) == 0 ? 0 : -1;
}

void python_guard_arm(const char *const *read_dirs)
{
    g_read_dirs = read_dirs;
}

int python_guard_violation(const char *what)
{
    if (g_read_dirs == NULL)
        return -1;
    violation(what);
}
