/* strategy_python.c — a worker's side of Python strategies: start its
 * Python host with an empty environment, keep it warm, send it the frame
 * when it changes and each evaluation's code in a memfd, read the outcome.
 * A host that dies or stops answering is killed and started afresh on the
 * next Python strategy. */
#include "strategy/strategy_python.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build_stamp.h"
#include "core/clock.h"
#include "strategy/landlock.h"
#include "strategy/python_frame.h"
#include "strategy/python_host.h"
#include "strategy/python_wire.h"

/* Starting Python with numpy and pandas takes about a second; much longer
 * means something is wrong. */
#define HOST_START_MS 120000
/* How long past the evaluation's own limit the host may take to answer. */
#define HOST_GRACE_MS 10000

static struct {
    pid_t pid;
    int sock;
    char versions[200];          /* what it runs: "Python 3.11.2, numpy 1.24.2, pandas 1.5.3" */
    const bar_set_t *set;        /* the bars it holds */
    uint64_t generation;
    size_t bars;
    size_t nseries;
    uint64_t *window;            /* the window it holds: lo[nseries] then hi[nseries]; NULL: none */
} g_host = { .pid = 0, .sock = -1 };

int strategy_python_available(char *why, size_t whylen)
{
    if (landlock_abi() >= 1)
        return 0;
    snprintf(why, whylen, "Python strategies need Landlock (Linux 5.13 or later, with landlock among the active "
             "security modules) to confine their file access, and this kernel has none; tickq never runs them "
             "under a weaker sandbox: run this strategy in Lua, or its worker on a kernel with Landlock");
    return -1;
}

static int host_start(char *err, size_t errlen);

int strategy_python_probe(char *info, size_t infolen)
{
    if (strategy_python_available(info, infolen) != 0)
        return -1;
    if (g_host.pid <= 0 && host_start(info, infolen) != 0)
        return -1;
    snprintf(info, infolen, "%s; sandbox: seccomp, Landlock ABI %d, memory and time limits", g_host.versions,
             landlock_abi());
    return 0;
}

void strategy_python_stop(void)
{
    if (g_host.sock >= 0)
        close(g_host.sock);
    if (g_host.pid > 0) {
        kill(g_host.pid, SIGKILL);
        while (waitpid(g_host.pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    free(g_host.window);
    memset(&g_host, 0, sizeof g_host);
    g_host.sock = -1;
}

/* The host's environment: nothing of the worker's but what keeps numeric
 * libraries single-threaded (and a sanitizer build's options). */
static void host_environment(char **env, size_t max)
{
    static const char *const fixed[] = {
        "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "NUMEXPR_NUM_THREADS=1",
        "VECLIB_MAXIMUM_THREADS=1", "LANG=C.UTF-8", "TZ=UTC", "PATH=/usr/bin:/bin",
    };
    static const char *const passed[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS" };
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && n + 1 < max; i++)
        env[n++] = (char *)fixed[i];
    for (size_t i = 0; i < sizeof passed / sizeof passed[0] && n + 1 < max; i++) {
        size_t len = strlen(passed[i]); /* the worker's own "NAME=value" entry */
        for (char **e = environ; *e != NULL; e++)
            if (strncmp(*e, passed[i], len) == 0 && (*e)[len] == '=')
                env[n++] = *e;
    }
    env[n] = NULL;
}

/* Whether the host at path, in folder, is safe to run: no one but root
 * and this worker's user can have put it there or changed it. The folder
 * and the host belong to one of them and not everyone may write to them;
 * a link as the host belongs to one of them too. A folder everyone may
 * write to must be sticky (no one may then replace a file of ours), and the
 * host in it a file of this user's own with no other name (not a link
 * someone planted there to a program of root's). Group write is allowed:
 * Debian gives each user a group of their own, and a umask of 002. Else
 * the reason, in why. */
static int host_trusted(const char *folder, const char *path, char *why, size_t whylen)
{
    struct stat fs, ls, hs;
    uid_t me = geteuid();
    const char *failed = stat(folder, &fs) != 0 ? folder : lstat(path, &ls) != 0 || stat(path, &hs) != 0 ? path : NULL;
    if (failed != NULL) {
        snprintf(why, whylen, "%s: %s", failed, strerror(errno));
        return 0;
    }
    int open_folder = (fs.st_mode & S_IWOTH) != 0;
    if (fs.st_uid != 0 && fs.st_uid != me)
        snprintf(why, whylen, "%s belongs to user %u, neither root nor this worker's user", folder,
                 (unsigned)fs.st_uid);
    else if (open_folder && (fs.st_mode & S_ISVTX) == 0)
        snprintf(why, whylen, "anyone may write to %s", folder);
    else if (S_ISLNK(ls.st_mode) && ls.st_uid != 0 && ls.st_uid != me)
        snprintf(why, whylen, "%s is a link of user %u, neither root nor this worker's user", path,
                 (unsigned)ls.st_uid);
    else if (hs.st_uid != 0 && hs.st_uid != me)
        snprintf(why, whylen, "%s belongs to user %u, neither root nor this worker's user", path,
                 (unsigned)hs.st_uid);
    else if ((hs.st_mode & S_IWOTH) != 0)
        snprintf(why, whylen, "anyone may write to %s", path);
    else if (open_folder && (S_ISLNK(ls.st_mode) || ls.st_uid != me || ls.st_nlink != 1))
        snprintf(why, whylen, "anyone may write to %s, where %s is not a file of this worker's user's own with "
                 "no other name", folder, path);
    else
        return 1;
    return 0;
}

/* The host program's path: tickq-python-host beside this executable (its
 * directory even when the executable was replaced on disk meanwhile),
 * refused when someone else could have put it there. */
static int host_program(char *path, size_t len, char *err, size_t errlen)
{
    static const char name[] = "tickq-python-host";
    ssize_t n = readlink("/proc/self/exe", path, len - 1);
    if (n <= 0 || (size_t)n >= len - 1) {
        snprintf(err, errlen, "cannot find the Python host: /proc/self/exe: %s", n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash + 1 - path) + sizeof name > len) {
        snprintf(err, errlen, "cannot find the Python host beside %s", path);
        return -1;
    }
    memcpy(slash + 1, name, sizeof name);
    if (access(path, X_OK) != 0) {
        snprintf(err, errlen, "cannot start the Python host %s: %s (Python strategies need the tickq-python-host "
                 "program beside tickq: make builds both, make install installs both)", path, strerror(errno));
        return -1;
    }
    char why[2 * PATH_MAX + 100], folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%.*s", slash == path ? 1 : (int)(slash - path), path); /* "/" for "/x" */
    if (!host_trusted(folder, path, why, sizeof why)) {
        snprintf(err, errlen, "refusing to start the Python host %s: %s", path, why);
        return -1;
    }
    return 0;
}

static int host_start(char *err, size_t errlen)
{
    char program[PATH_MAX];
    if (host_program(program, sizeof program, err, errlen) != 0)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "cannot create the Python host's socket: %s", strerror(errno));
        return -1;
    }
    char *env[16];
    host_environment(env, sizeof env / sizeof env[0]);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        if (sv[1] == PYTHON_HOST_FD)
            fcntl(PYTHON_HOST_FD, F_SETFD, 0); /* already there: dup2 would keep its close-on-exec */
        else if (dup2(sv[1], PYTHON_HOST_FD) != PYTHON_HOST_FD)
            _exit(1);
        if (close_range(PYTHON_HOST_FD + 1, ~0U, 0) != 0)
            for (int fd = PYTHON_HOST_FD + 1; fd < 65536; fd++)
                close(fd);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* "tickq python-host" in ps, as when the host was tickq itself (the
         * tests find the hosts by it). */
        char *argv[] = { (char *)"tickq", (char *)"python-host", (char *)TICKQ_BUILD_STAMP, NULL };
        execve(program, argv, env);
        /* Told as the host's READY, which the worker waits for. (snprintf
         * and strerror after fork: a worker child has one thread.) */
        char why[PATH_MAX + 100];
        snprintf(why, sizeof why, "cannot execute the Python host %s: %s", program, strerror(errno));
        struct iovec ready = { why, strlen(why) };
        pywire_send(PYTHON_HOST_FD, PYWIRE_READY, &ready, 1, -1);
        _exit(127);
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        snprintf(err, errlen, "cannot start the Python host: %s", strerror(errno));
        return -1;
    }
    g_host.pid = pid;
    g_host.sock = sv[0];
    uint32_t type;
    char *payload;
    uint64_t len;
    if (pywire_recv(g_host.sock, &type, &payload, &len, NULL, clock_mono_ms() + HOST_START_MS) != 0) {
        snprintf(err, errlen, "the Python host did not start (%s)",
                 errno == ETIMEDOUT ? "no answer in 120 s" : "it ended; its error is in the worker's log");
        strategy_python_stop();
        return -1;
    }
    if (type != PYWIRE_READY || len == 0 || payload[0] != '+') {
        snprintf(err, errlen, "Python cannot run here: %s", type == PYWIRE_READY ? payload : "unexpected first message");
        free(payload);
        strategy_python_stop();
        return -1;
    }
    snprintf(g_host.versions, sizeof g_host.versions, "%s", payload + 1);
    free(payload);
    return 0;
}

/* Sends the bars and the window of the job's frame, each when the host
 * does not hold them already. */
static int send_frame(const strategy_frame_t *f, char *err, size_t errlen)
{
    const bar_set_t *set = f->set;
    size_t bars = bar_set_rows(set), n = set->n;
    if (g_host.set != set || g_host.generation != f->generation || f->generation == 0 || g_host.bars != bars ||
        g_host.nseries != n) {
        size_t size = python_bars_size(set);
        char *buf = malloc(size ? size : 1);
        if (buf == NULL) {
            snprintf(err, errlen, "out of memory for the bars (%zu bytes)", size);
            return -1;
        }
        python_bars_write(set, f->daily, buf);
        struct iovec iov = { buf, size };
        int rc = pywire_send(g_host.sock, PYWIRE_BARS, &iov, 1, -1);
        free(buf);
        if (rc != 0) {
            snprintf(err, errlen, "cannot send the bars to the Python host: %s", strerror(errno));
            return -1;
        }
        g_host.set = set;
        g_host.generation = f->generation;
        g_host.bars = bars;
        g_host.nseries = n;
        free(g_host.window);
        g_host.window = NULL;
    }
    uint64_t *window = malloc(2 * (n ? n : 1) * sizeof *window);
    if (window == NULL) {
        snprintf(err, errlen, "out of memory for the window");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        window[i] = f->lo[i];
        window[n + i] = f->hi[i];
    }
    if (g_host.window != NULL && memcmp(g_host.window, window, 2 * n * sizeof *window) == 0) {
        free(window);
        return 0;
    }
    struct iovec iov = { window, 2 * n * sizeof *window };
    if (pywire_send(g_host.sock, PYWIRE_WINDOW, &iov, 1, -1) != 0) {
        free(window);
        snprintf(err, errlen, "cannot send the window to the Python host: %s", strerror(errno));
        return -1;
    }
    free(g_host.window);
    g_host.window = window;
    return 0;
}

/* A memfd holding "entry_point\0params\0code" (params: the JSON text of the
 * strategy's second argument, "" for none; JSON text holds no NUL), for the
 * evaluation child alone. */
static int code_memfd(const strategy_job_t *job, char *err, size_t errlen)
{
    int fd = memfd_create("tickq-strategy", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the code's memfd: %s", strerror(errno));
        return -1;
    }
    const char *entry = job->entry_point != NULL ? job->entry_point : "";
    char *params = job->params != NULL ? json_dumps(job->params, JSON_COMPACT) : NULL;
    if (job->params != NULL && params == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    const char *ptext = params != NULL ? params : "";
    struct iovec iov[5] = { { (void *)entry, strlen(entry) }, { (void *)"", 1 }, { (void *)ptext, strlen(ptext) },
                            { (void *)"", 1 }, { (void *)job->code, job->code_len } };
    size_t total = iov[0].iov_len + 1 + iov[2].iov_len + 1 + job->code_len, done = 0;
    while (done < total) {
        ssize_t w = pwritev(fd, iov, 5, 0);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 || (size_t)w != total) { /* a memfd takes it all at once */
            snprintf(err, errlen, "cannot write the code's memfd: %s", w < 0 ? strerror(errno) : "short write");
            free(params);
            close(fd);
            return -1;
        }
        done = total;
    }
    free(params);
    return fd;
}

static int read_outcome(sandbox_outcome_t *out, int64_t deadline, char *err, size_t errlen)
{
    uint32_t type;
    char *payload;
    uint64_t len;
    if (pywire_recv(g_host.sock, &type, &payload, &len, NULL, deadline) != 0) {
        snprintf(err, errlen, "the Python host %s while the strategy ran",
                 errno == ETIMEDOUT ? "stopped answering" : "ended (killed from outside?)");
        return -1;
    }
    pywire_outcome_t o;
    if (type != PYWIRE_OUTCOME || len < sizeof o) {
        free(payload);
        snprintf(err, errlen, "the Python host sent an unexpected message");
        return -1;
    }
    memcpy(&o, payload, sizeof o);
    if (o.result_len > len - sizeof o || o.output_len > len - sizeof o - o.result_len) {
        free(payload);
        snprintf(err, errlen, "the Python host sent a malformed outcome");
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->exit_code = o.exit_code;
    out->term_signal = o.term_signal;
    out->timed_out = o.timed_out;
    out->result_truncated = o.result_truncated;
    out->output_truncated = o.output_truncated;
    out->setup_failed = o.setup_failed;
    out->elapsed_ms = o.elapsed_ms;
    snprintf(out->violation, sizeof out->violation, "%.*s", (int)sizeof o.violation - 1, o.violation);
    /* The result stays where it arrived (it can be 256 MiB): moved to the
     * payload's start; the output (at most 64 KiB) gets its own copy. */
    out->output = malloc((size_t)o.output_len + 1);
    if (out->output == NULL) {
        free(payload);
        snprintf(err, errlen, "out of memory for the strategy's output");
        return -1;
    }
    memcpy(out->output, payload + sizeof o + o.result_len, (size_t)o.output_len);
    out->output[o.output_len] = '\0';
    out->output_len = (size_t)o.output_len;
    memmove(payload, payload + sizeof o, (size_t)o.result_len);
    payload[o.result_len] = '\0';
    out->result = payload;
    out->result_len = (size_t)o.result_len;
    return 0;
}

int strategy_python_eval(const strategy_job_t *job, sandbox_outcome_t *out, strategy_failure_t *failure, char *err,
                         size_t errlen)
{
    *failure = STRATEGY_NOT_STARTED;
    if (strategy_python_available(err, errlen) != 0) {
        *failure = STRATEGY_FAILED;
        return -1;
    }
    if (g_host.pid > 0 && waitpid(g_host.pid, NULL, WNOHANG) == g_host.pid) {
        g_host.pid = 0; /* it died since: reaped, start another */
        strategy_python_stop();
    }
    if (g_host.pid <= 0 && host_start(err, errlen) != 0)
        return -1;
    if (send_frame(job->frame, err, errlen) != 0) {
        strategy_python_stop();
        return -1;
    }
    int fd = code_memfd(job, err, errlen);
    if (fd < 0)
        return -1;
    pywire_eval_t e;
    memset(&e, 0, sizeof e);
    e.mode = job->positions ? PYWIRE_MODE_POSITIONS : PYWIRE_MODE_INSTANCES;
    e.time_limit_ms = job->time_limit_ms;
    e.memory_bytes = job->memory_bytes;
    struct iovec iov = { &e, sizeof e };
    int rc = pywire_send(g_host.sock, PYWIRE_EVAL, &iov, 1, fd);
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "cannot send the strategy to the Python host: %s", strerror(errno));
        strategy_python_stop();
        return -1;
    }
    if (read_outcome(out, clock_mono_ms() + job->time_limit_ms + HOST_GRACE_MS, err, errlen) != 0) {
        *failure = STRATEGY_INTERRUPTED; /* it had the job: it did start */
        strategy_python_stop();
        return -1;
    }
    return 0;
}
