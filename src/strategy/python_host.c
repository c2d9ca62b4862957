/* python_host.c — the Python host (python_host.h): start CPython warm,
 * serve the worker's frame and evaluations, one sandboxed fork each.
 *
 * Startup: the guard hook first (python_guard.h), the `_tickq` module
 * (python_frame.h), an isolated interpreter (no environment variables, no
 * user site, no bytecode written), numpy and pandas imported and warmed up,
 * the runner (python_runner.py, compiled into the binary) loaded as
 * `tickq_runner`; then READY. Each frame (BARS) is served by a child of
 * the host (serve_frame), which holds it and its df and ends when the next
 * frame comes, so that the host's own memory never holds a job's data. An
 * evaluation runs in a sandbox child of that one with the Python profile,
 * forked ahead over the current df (sandbox_spare_*: the fork and its page
 * faults cost milliseconds for a process this large, paid between jobs):
 * the child reads the code from the memfd the worker sent, arms the guard
 * and calls tickq_runner.evaluate; its envelope and what it printed come
 * back through the sandbox's pipes, cleared from memory once relayed to
 * the worker as one OUTCOME. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "strategy/python_host.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "build_stamp.h"
#include "core/fdio.h"
#include "python_runner.h"
#include "strategy/python_frame.h"
#include "strategy/python_guard.h"
#include "strategy/python_memory.h"
#include "strategy/python_module.h"
#include "strategy/python_wire.h"
#include "strategy/sandbox.h"
#include "strategy/strategy.h"

#define READ_DIRS_MAX 32

static PyObject *g_runner;              /* the tickq_runner module */
static PyObject *g_globals;             /* a namespace for the host's own one-liners */
static PyObject *g_df;                  /* the frame's df, made for the current window */
static sandbox_spare_t *g_spare;        /* the next evaluation's child, forked over g_df */
static char *g_read_dirs[READ_DIRS_MAX + 1];

static void python_error_text(char *err, size_t errlen)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *text = value != NULL ? PyObject_Str(value) : NULL;
    const char *s = text != NULL ? PyUnicode_AsUTF8(text) : NULL;
    snprintf(err, errlen, "%s: %s", type != NULL ? ((PyTypeObject *)type)->tp_name : "error", s ? s : "?");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* The folders a strategy may read: those Python reads its modules from
 * (sys.path's) and the time zone database's (zoneinfo.TZPATH's, which
 * zoneinfo, pytz and pandas read for tz_localize("America/New_York")), as
 * given and resolved (the guard compares names, Landlock the files behind
 * them). */
static int find_read_dirs(char *err, size_t errlen)
{
    PyObject *globals = PyDict_New();
    PyObject *dirs = globals != NULL
                         ? PyRun_String("sorted({p for q in __import__('sys').path + "
                                        "list(__import__('zoneinfo').TZPATH) if __import__('os').path.isdir(q) "
                                        "for p in (q, __import__('os').path.realpath(q))})",
                                        Py_eval_input, globals, globals)
                         : NULL;
    Py_XDECREF(globals);
    if (dirs == NULL || !PyList_Check(dirs)) {
        python_error_text(err, errlen);
        Py_XDECREF(dirs);
        return -1;
    }
    size_t n = 0;
    if (PyList_GET_SIZE(dirs) > READ_DIRS_MAX) {
        snprintf(err, errlen, "Python's path has %zd folders, more than the sandbox's %d", PyList_GET_SIZE(dirs),
                 READ_DIRS_MAX);
        Py_DECREF(dirs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dirs); i++) {
        const char *d = PyUnicode_AsUTF8(PyList_GET_ITEM(dirs, i));
        if (d != NULL && d[0] == '/')
            g_read_dirs[n++] = strdup(d);
        PyErr_Clear();
    }
    g_read_dirs[n] = NULL;
    Py_DECREF(dirs);
    return 0;
}

static int start_python(char *err, size_t errlen)
{
    if (python_guard_install() != 0 || PyImport_AppendInittab("_tickq", python_module_init) != 0) {
        snprintf(err, errlen, "cannot prepare the interpreter");
        return -1;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    config.site_import = 1; /* Debian's dist-packages, where numpy and pandas live */
    PyStatus st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        snprintf(err, errlen, "cannot start Python: %s", st.err_msg ? st.err_msg : "?");
        return -1;
    }
    PyObject *code = Py_CompileString(python_runner_source, "python_runner.py", Py_file_input);
    g_runner = code != NULL ? PyImport_ExecCodeModule("tickq_runner", code) : NULL;
    Py_XDECREF(code);
    if (g_runner == NULL) {
        python_error_text(err, errlen);
        return -1;
    }
    /* Threads: refused by name before the kernel traps them silently. */
    if (PyRun_SimpleString("import _thread, threading, _tickq\n"
                           "def _no_thread(*args, **kwargs):\n"
                           "    _tickq.violation('starting a thread (threading)')\n"
                           "_thread.start_new_thread = threading._start_new_thread = _no_thread\n"
                           "del _no_thread\n") != 0) {
        snprintf(err, errlen, "cannot guard thread starts");
        return -1;
    }
    g_globals = PyDict_New();
    if (g_globals == NULL || PyDict_SetItemString(g_globals, "__builtins__", PyEval_GetBuiltins()) != 0) {
        python_error_text(err, errlen);
        return -1;
    }
    PyObject *warm = PyObject_CallMethod(g_runner, "warm_up", NULL);
    if (warm == NULL) {
        python_error_text(err, errlen);
        return -1;
    }
    Py_DECREF(warm);
    if (python_memory_install(err, errlen) != 0)
        return -1;
    return find_read_dirs(err, errlen);
}

/* --- one evaluation ------------------------------------------------------ */

/* (A failed write to the result pipe: the host sees no result, and says so.) */
static void write_all(int fd, const char *text, size_t len)
{
    (void)fdio_write_all(fd, text, len);
}

static char g_memory_envelope[256];     /* the evaluation's memory failure, written without allocating */

/* Writes the envelope (and the raw text after it), then closes the pipes:
 * the host sees the evaluation end now, not when the process is gone. */
static int envelope(json_t *env, const char *raw, size_t raw_len)
{
    char *text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (text == NULL) { /* out of memory at the end: say so without allocating */
        write_all(SANDBOX_RESULT_FD, g_memory_envelope, strlen(g_memory_envelope));
        close(1);
        close(2);
        close(SANDBOX_RESULT_FD);
        return 0;
    }
    write_all(SANDBOX_RESULT_FD, text, strlen(text));
    write_all(SANDBOX_RESULT_FD, "\n", 1);
    free(text);
    if (raw != NULL)
        write_all(SANDBOX_RESULT_FD, raw, raw_len);
    close(1);
    close(2);
    close(SANDBOX_RESULT_FD);
    return 0;
}

static int fail(const char *kind, const char *message)
{
    return envelope(json_pack("{s:b, s:s, s:s}", "ok", 0, "kind", kind, "message", message), NULL, 0);
}

/* What the worker put in the memfd: "entry_point\0params\0code". */
static char *read_code(size_t *len)
{
    struct stat sb;
    if (fstat(SANDBOX_KEEP_FD, &sb) != 0 || sb.st_size < 1)
        return NULL;
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)sb.st_size) {
        ssize_t r = pread(SANDBOX_KEEP_FD, buf + got, (size_t)sb.st_size - got, (off_t)got);
        if (r <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)r;
    }
    close(SANDBOX_KEEP_FD);
    if (buf != NULL)
        buf[got] = '\0';
    *len = got;
    return buf;
}

/* The evaluation child's body, after the sandbox's lockdown. */
static int evaluate(void *arg, const char *request, size_t request_len)
{
    (void)arg;
    pywire_eval_t eval;
    if (request_len != sizeof eval)
        sandbox_setup_failed("malformed evaluation request");
    memcpy(&eval, request, sizeof eval);
    char memory[120];
    strategy_memory_limit_message((size_t)eval.memory_bytes, memory, sizeof memory);
    snprintf(g_memory_envelope, sizeof g_memory_envelope, "{\"ok\":false,\"kind\":\"memory\",\"message\":\"%s\"}\n",
             memory);
    size_t len;
    char *buf = read_code(&len);
    if (buf == NULL)
        sandbox_setup_failed("cannot read the strategy's code");
    size_t entry_point_len = strnlen(buf, len);
    size_t params_len = entry_point_len < len ? strnlen(buf + entry_point_len + 1, len - entry_point_len - 1) : 0;
    if (entry_point_len == len || entry_point_len + 1 + params_len == len)
        sandbox_setup_failed("malformed strategy code message");
    size_t code_at = entry_point_len + 1 + params_len + 1;
    PyObject *code = PyBytes_FromStringAndSize(buf + code_at, (Py_ssize_t)(len - code_at));
    PyObject *entry_point = entry_point_len > 0
                                ? PyUnicode_DecodeUTF8(buf, (Py_ssize_t)entry_point_len, "replace")
                                : Py_NewRef(Py_None);
    PyObject *params = params_len > 0
                           ? PyUnicode_DecodeUTF8(buf + entry_point_len + 1, (Py_ssize_t)params_len, "replace")
                           : Py_NewRef(Py_None);
    free(buf);
    const char *mode = eval.mode == PYWIRE_MODE_POSITIONS ? "positions" : "instances";
    python_memory_reset();
    sandbox_setup_done();
    python_guard_arm((const char *const *)g_read_dirs);
    PyObject *ret = code != NULL && entry_point != NULL && params != NULL
                        ? PyObject_CallMethod(g_runner, "evaluate", "OOsOO", code, entry_point, mode, g_df, params)
                        : NULL;
    Py_XDECREF(code);
    Py_XDECREF(entry_point);
    Py_XDECREF(params);
    /* A strategy that ran out of memory broke its limit, whether it caught
     * the MemoryError or Python lost it on the way (3.11 can fail a frame
     * push with "error return without exception set"). */
    if (python_memory_failed())
        return fail("memory", memory);
    if (ret == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError))
            return fail("memory", memory);
        char err[400], msg[500];
        python_error_text(err, sizeof err);
        snprintf(msg, sizeof msg, "Strategy error: the strategy runner failed: %s", err);
        return fail("error", msg);
    }
    const char *kind = PyTuple_Check(ret) && PyTuple_GET_SIZE(ret) == 3 ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(ret, 0))
                                                                        : NULL;
    if (kind == NULL) {
        PyErr_Clear();
        return fail("error", "Strategy error: the strategy runner answered something else than (kind, text, columns)");
    }
    Py_ssize_t text_len = 0;
    const char *text = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(ret, 1), &text_len);
    if (text == NULL) {
        int oom = PyErr_ExceptionMatches(PyExc_MemoryError);
        PyErr_Clear();
        return oom ? fail("memory", memory) : fail("error", "Strategy error: the strategy runner's text is not UTF-8");
    }
    if (strcmp(kind, "memory") == 0)
        return fail("memory", memory);
    if (strcmp(kind, "ok") != 0)
        return fail(kind, text);
    json_t *columns = json_array();
    PyObject *cols = PyTuple_GET_ITEM(ret, 2);
    for (Py_ssize_t i = 0; PyList_Check(cols) && i < PyList_GET_SIZE(cols); i++) {
        const char *name = PyUnicode_AsUTF8(PyList_GET_ITEM(cols, i));
        if (name != NULL)
            json_array_append_new(columns, json_string(name));
        PyErr_Clear();
    }
    return envelope(json_pack("{s:b, s:o, s:b}", "ok", 1, "columns", columns, "raw", 1), text, (size_t)text_len);
}

static int reply_outcome(int sock, const sandbox_outcome_t *out)
{
    pywire_outcome_t o;
    memset(&o, 0, sizeof o);
    o.exit_code = out->exit_code;
    o.term_signal = out->term_signal;
    o.timed_out = out->timed_out;
    o.result_truncated = out->result_truncated;
    o.output_truncated = out->output_truncated;
    o.setup_failed = out->setup_failed;
    o.elapsed_ms = out->elapsed_ms;
    o.result_len = out->result_len;
    o.output_len = out->output_len;
    snprintf(o.violation, sizeof o.violation, "%s", out->violation);
    struct iovec iov[3] = { { &o, sizeof o }, { out->result, out->result_len }, { out->output, out->output_len } };
    return pywire_send(sock, PYWIRE_OUTCOME, iov, 3, -1);
}

/* An outcome the host itself writes: the evaluation could not start. */
static int reply_internal(int sock, const char *why)
{
    char result[600];
    json_t *env = json_pack("{s:b, s:s, s:s}", "ok", 0, "kind", "internal", "message", why);
    char *text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    snprintf(result, sizeof result, "%s\n", text != NULL ? text : "");
    free(text);
    sandbox_outcome_t out;
    memset(&out, 0, sizeof out);
    out.setup_failed = 1;
    out.result = result;
    out.result_len = strlen(result);
    out.output = (char *)"";
    return reply_outcome(sock, &out);
}

/* What the process holds now is what every evaluation inherits: out of
 * the collector's sight, or a collection in an evaluation would walk (and
 * so copy) every page of it. */
static void freeze_objects(void)
{
    PyObject *frozen = PyRun_String("__import__('gc').collect(); __import__('gc').freeze()", Py_single_input,
                                    g_globals, g_globals);
    if (frozen == NULL)
        PyErr_Clear();
    Py_XDECREF(frozen);
}

/* Children of finished evaluations, killed, still to reap. */
#define ZOMBIES_MAX 64
static pid_t g_zombies[ZOMBIES_MAX];
static size_t g_nzombies;

static void reap_zombies(int wait)
{
    size_t kept = 0;
    for (size_t i = 0; i < g_nzombies; i++)
        if (!sandbox_reap(g_zombies[i], wait))
            g_zombies[kept++] = g_zombies[i];
    g_nzombies = kept;
}

static void release(sandbox_spare_t *sp)
{
    pid_t pid = sandbox_spare_release(sp);
    if (pid <= 0)
        return;
    if (g_nzombies == ZOMBIES_MAX)
        reap_zombies(1);
    g_zombies[g_nzombies++] = pid;
}

/* Clears the stack below the caller: what the last evaluation's relay left
 * there (its result, read from a pipe in frames that have returned) must
 * not be inherited by the next evaluation child, whose fork copies it. */
static __attribute__((noinline)) void scrub_stack(void)
{
    char area[256 << 10];
    explicit_bzero(area, sizeof area);
    __asm__ volatile("" : : "r"(area) : "memory");
}

/* In the evaluation child, first: what it inherited below this frame goes. */
static void after_fork(void)
{
    scrub_stack();
    PyOS_AfterFork_Child();
}

/* Forks the evaluation child for the next request over the current df,
 * after a reply: its cost is not the next job's unless that job comes
 * before the fork is done. Never inlined (nor is run_eval): their locals
 * must lie below serve_frame's frame, where scrub_stack reaches, not in
 * it, where a relayed result was found inherited by the next child. */
static __attribute__((noinline)) void spare_ready(void)
{
    if (g_spare != NULL || g_df == NULL)
        return;
    char err[300];
    PyOS_BeforeFork();
    if (sandbox_spare_fork(&g_spare, (const char *const *)g_read_dirs, after_fork, evaluate, NULL, err, sizeof err) != 0)
        g_spare = NULL; /* tried again at the request, which reports it */
    PyOS_AfterFork_Parent();
}

/* Ends the spare: a new frame makes it stale. */
static void spare_forget(void)
{
    release(g_spare);
    g_spare = NULL;
}

/* Takes code_fd (closes it). */
static __attribute__((noinline)) int run_eval(int sock, const char *payload, size_t len, int code_fd)
{
    pywire_eval_t e;
    if (len != sizeof e || code_fd < 0) {
        if (code_fd >= 0)
            close(code_fd);
        return reply_internal(sock, "malformed evaluation request");
    }
    memcpy(&e, payload, sizeof e);
    if (g_df == NULL) {
        PyObject *df = PyObject_CallMethod(g_runner, "make_frame", NULL);
        if (df == NULL) {
            char err[400], msg[500];
            python_error_text(err, sizeof err);
            snprintf(msg, sizeof msg, "cannot build df: %s", err);
            close(code_fd);
            return reply_internal(sock, msg);
        }
        g_df = df;
        freeze_objects();
    }
    spare_ready();
    sandbox_spare_t *sp = g_spare;
    g_spare = NULL;
    if (sp == NULL) {
        close(code_fd);
        return reply_internal(sock, "cannot fork the evaluation");
    }
    sandbox_limits_t lim = {
        .wall_ms = e.time_limit_ms,
        .cpu_seconds = (int)(e.time_limit_ms / 1000) + 2,
        .read_dirs = (const char *const *)g_read_dirs,
        .address_space_extra = (size_t)e.memory_bytes,
        .keep_fd = code_fd,
    };
    char err[300];
    int started = sandbox_spare_start(sp, &lim, payload, len, err, sizeof err);
    close(code_fd); /* the child has it: the next spare must not inherit it */
    if (started != 0) {
        release(sp);
        return reply_internal(sock, err);
    }
    sandbox_outcome_t out;
    sandbox_spare_wait(sp, &out);
    int rc = reply_outcome(sock, &out);
    sandbox_outcome_free(&out);
    release(sp);
    reap_zombies(0);
    return rc;
}

/* A frame's process: takes the BARS waiting on the socket, then serves
 * windows and evaluations over it until the next BARS (left unread for the
 * host: FRAME_REPLACED) or the end of the socket (0). */
#define FRAME_REPLACED 10

static int serve_frame(int sock)
{
    char err[600] = "";
    int have_bars = 0;
    for (;;) {
        uint32_t type;
        if (have_bars) {
            if (pywire_peek(sock, &type, -1) != 0)
                return errno == EPIPE ? 0 : 1;
            if (type == PYWIRE_BARS) {
                spare_forget();
                reap_zombies(1);
                return FRAME_REPLACED;
            }
        }
        char *payload;
        uint64_t len;
        int fd = -1;
        if (pywire_recv(sock, &type, &payload, &len, &fd, -1) != 0)
            return errno == EPIPE ? 0 : 1;
        int rc = 0;
        if (type == PYWIRE_BARS) {
            rc = python_frame_set_bars(payload, (size_t)len, err, sizeof err);
            payload = NULL; /* owned by the frame */
            have_bars = 1;
        } else if (type == PYWIRE_WINDOW) {
            spare_forget();
            Py_CLEAR(g_df);
            rc = python_frame_set_window(payload, (size_t)len, err, sizeof err);
        } else if (type == PYWIRE_EVAL) {
            scrub_stack(); /* the frames run_eval's callees use, as clean as new */
            rc = run_eval(sock, payload, (size_t)len, fd);
            fd = -1; /* run_eval's */
            /* The next evaluation's child now, after the reply (forking a
             * process this large takes milliseconds: ~8 ms for pandas and a
             * 50,000-row df on a 2-core VM, which would delay the reply if
             * done while the child runs), from this shallow frame over a
             * cleared stack: nothing the relay of this result left below it
             * is inherited. */
            scrub_stack();
            spare_ready();
        } else {
            snprintf(err, sizeof err, "unknown message %u", type);
            rc = -1;
        }
        free(payload);
        if (fd >= 0)
            close(fd);
        if (rc != 0) {
            fprintf(stderr, "tickq-python-host: %s\n", err);
            return 1;
        }
    }
}

static int serve(const char *stamp)
{
    int sock = PYTHON_HOST_FD;
    struct stat sb;
    if (fstat(sock, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
        fprintf(stderr, "tickq-python-host: not for use by hand: a worker starts it, with its socket as "
                        "descriptor %d\n", PYTHON_HOST_FD);
        return EX_USAGE;
    }
    prctl(PR_SET_NAME, "tickq-python"); /* in ps and top, beside tickq-history */
    signal(SIGINT, SIG_IGN); /* the worker decides when the host ends (its socket closes) */
    signal(SIGPIPE, SIG_IGN);
    if (chdir("/") != 0) /* relative names resolve outside the readable folders */
        return 1;
    char err[600] = "";
    int ok = 0;
    if (strcmp(stamp, TICKQ_BUILD_STAMP) != 0)
        snprintf(err, sizeof err, "the Python host (tickq-python-host) is from another build of tickq than the "
                 "worker (this host's build %s, the worker's %.20s): install tickq and tickq-python-host "
                 "together, then restart the worker", TICKQ_BUILD_STAMP, stamp);
    else
        ok = start_python(err, sizeof err) == 0;
    if (ok) {
        const char *versions = NULL;
        PyObject *v = PyObject_CallMethod(g_runner, "versions", NULL);
        versions = v != NULL ? PyUnicode_AsUTF8(v) : NULL;
        snprintf(err, sizeof err, "+%s", versions != NULL ? versions : "");
        PyErr_Clear();
        Py_XDECREF(v);
    }
    struct iovec ready = { err, strlen(err) };
    if (pywire_send(sock, PYWIRE_READY, &ready, 1, -1) != 0 || !ok)
        return ok ? 1 : EX_UNAVAILABLE;
    freeze_objects();
    /* Each frame is served by a child of this process (serve_frame), which
     * ends when the next frame comes: the host itself never reads a frame,
     * a job's data or its result, so none of it is in the memory the next
     * frame's evaluations are forked from. */
    for (;;) {
        uint32_t type;
        if (pywire_peek(sock, &type, -1) != 0)
            return errno == EPIPE ? 0 : 1;
        if (type != PYWIRE_BARS) {
            fprintf(stderr, "tickq-python-host: message %u before any frame\n", type);
            return 1;
        }
        PyOS_BeforeFork();
        pid_t pid = fork();
        if (pid == 0) {
            PyOS_AfterFork_Child();
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            _exit(serve_frame(sock));
        }
        PyOS_AfterFork_Parent();
        if (pid < 0) {
            fprintf(stderr, "tickq-python-host: cannot fork for a frame: %s\n", strerror(errno));
            return 1;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != FRAME_REPLACED)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
}

void python_host_main(const char *stamp)
{
    /* No interpreter teardown, no atexit handler (a sanitizer's leak check
     * would count the interpreter's memory): the process just ends. */
    _exit(serve(stamp));
}
