/* handler_proc.c — a handler process: its start, its pipes, its jobs on
 * their way, its end (handler_proc.h). What comes out of its pipes is read
 * into lines and logged by handler_output.c. */
#include "handlers/handler_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errmsg.h"
#include "core/log.h"
#include "core/utf8.h"
#include "handlers/handler_output.h"

#define CANCEL_POLL_MS 200
#define EXIT_WAIT_MS 1000

/* A job sent to the handler and not ended yet. */
typedef struct {
    int used;
    char id[JOB_ID_MAX + 1];
    void *tag;                   /* the caller's */
    int64_t deadline_mono_ms;
    int64_t timeout_ms;
    const task_hooks_t *hooks;
    int64_t next_poll;           /* next cancel_requested question */
    int cancelling;              /* a cancel was sent: its reply, or the kill, ends it */
    handler_outcome_t reason;    /* of the cancel: HANDLER_TIMEOUT or HANDLER_CANCELLED */
    int64_t grace_end;
    char stopped_why[80];
} flight_t;

/* Bytes not yet written to the handler. */
typedef struct {
    char *data;
    size_t len, off;
} outbox_t;

#define RECENT_IDS 128 /* more than a child has on their way (CLAIM_MAX) */

struct handler_proc {
    const handler_def_t *def;
    pid_t pid;                   /* 0: not running */
    int req_fd, rep_fd, out_fd, err_fd;
    linebuf_t rep, out, errout;
    stderr_tail_t tail;          /* the last bytes of its stderr */
    handler_hello_t hello;
    flight_t *flights;           /* hello.max_jobs of them */
    int nflights, inflight;
    outbox_t box;
    char recent[RECENT_IDS][JOB_ID_MAX + 1]; /* jobs that ended: their late progress is dropped */
    int recent_next;
    int64_t start_backoff_ms;    /* after a failed start: 0, else the wait before the next try */
    int64_t next_start_ms;       /* no start before this (clock_mono_ms) */
    char start_error[1024];      /* why the last start failed */
};

handler_proc_t *handler_proc_new(const handler_def_t *def)
{
    handler_proc_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->def = def;
    p->req_fd = p->rep_fd = p->out_fd = p->err_fd = -1;
    return p;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Where the Python runtime shipped with tickq lives: clients/python beside
 * the folder of the tickq binary's folder (build/tickq), when it is there. */
static void shipped_python_path(char *out, size_t outlen)
{
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    out[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (slash == NULL)
            return;
        *slash = '\0';
        snprintf(probe, sizeof probe, "%s/clients/python/tickq/__init__.py", exe);
        if (access(probe, R_OK) == 0) {
            size_t len = strlen(probe) - strlen("/tickq/__init__.py");
            if (len < outlen) { /* a longer path is not offered: PYTHONPATH stays as it is */
                memcpy(out, probe, len);
                out[len] = '\0';
            }
            return;
        }
    }
}

/* In the new process: fds 0-4 in place, nothing else open, signals as a
 * fresh process has them, then the command. Never returns. */
static void exec_handler(const handler_proc_t *p, int fds[5], const char *pythonpath)
{
    int high[5];
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < 5; i++)
        high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
    for (int i = 0; i < 5; i++)
        if (high[i] < 0 || dup2(high[i], i) != i)
            _exit(127);
    close_range(5, ~0U, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setenv("TICKQ_HANDLER", p->def->name, 1);
    if (getenv("PYTHONUNBUFFERED") == NULL)
        setenv("PYTHONUNBUFFERED", "1", 1);
    if (pythonpath[0]) {
        const char *old = getenv("PYTHONPATH");
        char joined[PATH_MAX * 4];
        if (old != NULL && *old)
            snprintf(joined, sizeof joined, "%s:%s", old, pythonpath);
        else
            snprintf(joined, sizeof joined, "%s", pythonpath);
        setenv("PYTHONPATH", joined, 1);
    }
    size_t n = strlen(p->def->command) + 6;
    char *line = malloc(n);
    if (line != NULL) {
        snprintf(line, n, "exec %s", p->def->command);
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
    }
    dprintf(2, "tickq: cannot run /bin/sh for handler %s: %s\n", p->def->name, strerror(errno));
    _exit(127);
}

static int spawn(handler_proc_t *p, char *err, size_t errlen)
{
    int req[2] = { -1, -1 }, rep[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char pythonpath[PATH_MAX];
    shipped_python_path(pythonpath, sizeof pythonpath);
    if (devnull < 0 || pipe2(req, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
        pipe2(errp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot make the pipes of handler %s: %s", p->def->name, strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start handler %s: fork: %s", p->def->name, strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        int fds[5] = { devnull, out[1], errp[1], req[0], rep[1] };
        exec_handler(p, fds, pythonpath);
    }
    close(devnull);
    close(req[0]);
    close(rep[1]);
    close(out[1]);
    close(errp[1]);
    p->pid = pid;
    p->req_fd = req[1];
    p->rep_fd = rep[0];
    p->out_fd = out[0];
    p->err_fd = errp[0];
    int fds[4] = { p->req_fd, p->rep_fd, p->out_fd, p->err_fd };
    for (int i = 0; i < 4; i++)
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    p->rep.len = p->rep.scanned = p->out.len = p->errout.len = 0;
    p->box.off = p->box.len = 0; /* nothing of the process before is sent to this one */
    p->tail.text[0] = '\0';
    return 0;
fail:
    if (devnull >= 0)
        close(devnull);
    int all[8] = { req[0], req[1], rep[0], rep[1], out[0], out[1], errp[0], errp[1] };
    for (int i = 0; i < 8; i++)
        if (all[i] >= 0)
            close(all[i]);
    return -1;
}

static void pump_output(handler_proc_t *p, short out_ev, short err_ev);

/* Reaps the process (killing its group first when `kill_group`, or when it
 * has not exited within EXIT_WAIT_MS) and describes how it ended. What it
 * wrote to stdout and stderr up to its end is logged (and kept for the
 * error) before its pipes close. */
static void reap(handler_proc_t *p, int kill_group, char *how, size_t howlen)
{
    int status = 0;
    snprintf(how, howlen, "ended");
    if (p->pid <= 0)
        return;
    if (kill_group)
        killpg(p->pid, SIGKILL);
    int64_t until = clock_mono_ms() + EXIT_WAIT_MS;
    pid_t got;
    while ((got = waitpid(p->pid, &status, WNOHANG)) == 0 && clock_mono_ms() < until)
        clock_sleep_ms(5, NULL);
    if (got == 0) {
        killpg(p->pid, SIGKILL);
        while ((got = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR) {
        }
    } else {
        killpg(p->pid, SIGKILL); /* whatever it left behind in its group */
    }
    if (got == p->pid && WIFEXITED(status))
        snprintf(how, howlen, "exit status %d", WEXITSTATUS(status));
    else if (got == p->pid && WIFSIGNALED(status))
        snprintf(how, howlen, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    p->pid = 0;
    pump_output(p, POLLIN, POLLIN);
    close_fd(&p->req_fd);
    close_fd(&p->rep_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    handler_hello_clear(&p->hello);
}

void handler_proc_free(handler_proc_t *p)
{
    if (p == NULL)
        return;
    if (p->pid > 0) {
        char how[128];
        close_fd(&p->req_fd); /* end of requests: it should exit */
        reap(p, 0, how, sizeof how);
    }
    linebuf_free(&p->rep);
    linebuf_free(&p->out);
    linebuf_free(&p->errout);
    free(p->flights);
    free(p->box.data);
    free(p);
}

const handler_hello_t *handler_proc_hello(const handler_proc_t *p)
{
    return p->pid > 0 && p->hello.types != NULL ? &p->hello : NULL;
}

/* The job a line of output is tagged with: the one running, "" when none,
 * the ids joined by commas when several are (a handler taking several at
 * once cannot say whose a line is). */
static const char *output_job(const handler_proc_t *p)
{
    static char ids[400];
    size_t used = 0;
    ids[0] = '\0';
    for (int i = 0; i < p->nflights && used + 1 < sizeof ids; i++)
        if (p->flights[i].used) {
            int n = snprintf(ids + used, sizeof ids - used, "%s%s", used ? "," : "", p->flights[i].id);
            if (n < 0)
                break;
            used += (size_t)n;
        }
    return ids;
}

/* Logs what the handler wrote to stdout and stderr (out_ev, err_ev: poll
 * said there is some), keeping the end of its stderr. */
static void pump_output(handler_proc_t *p, short out_ev, short err_ev)
{
    if (p->out_fd >= 0 && out_ev) {
        int eof = linebuf_fill(p->out_fd, &p->out);
        handler_output_log(&p->out, p->def->name, "stdout", output_job(p), NULL, eof != 0);
        if (eof != 0)
            close_fd(&p->out_fd);
    }
    if (p->err_fd >= 0 && err_ev) {
        int eof = linebuf_fill(p->err_fd, &p->errout);
        handler_output_log(&p->errout, p->def->name, "stderr", output_job(p), &p->tail, eof != 0);
        if (eof != 0)
            close_fd(&p->err_fd);
    }
}

/* Reaps the process (reap): *head says "handler NAME WHAT (HOW)", tail
 * (HANDLER_STDERR_TAIL + 1 bytes) gets the end of its stderr (stderr_tail_end). */
static void fail_process(handler_proc_t *p, int kill_group, const char *what, char *head, size_t headlen,
                         char *tail)
{
    char how[160];
    reap(p, kill_group, how, sizeof how);
    pump_output(p, POLLIN, POLLIN); /* reap read it all, unless there was no process */
    stderr_tail_end(&p->tail, tail);
    snprintf(head, headlen, "handler %s %s (%s)", p->def->name, what, how);
    p->tail.text[0] = '\0';
}

/* fail_process, for a start that failed: the whole error into err. */
static void fail_start(handler_proc_t *p, int kill_group, const char *what, char *err, size_t errlen)
{
    char head[1400], tail[HANDLER_STDERR_TAIL + 1];
    fail_process(p, kill_group, what, head, sizeof head, tail);
    handler_crash_error("", head, tail, err, errlen);
}

/* A handler that ended between jobs is reaped here, so that the next job
 * starts a new one rather than being charged for a process that never saw
 * it. */
static void reap_if_ended(handler_proc_t *p)
{
    int status;
    if (p->pid <= 0 || p->inflight > 0 || waitpid(p->pid, &status, WNOHANG) != p->pid)
        return; /* with jobs running, handler_proc_wait sees the end and ends them */
    char how[128];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    pump_output(p, POLLIN, POLLIN);
    log_warn("handler ended between jobs; starting it again", LF_S("handler", p->def->name), LF_S("how", how));
    killpg(p->pid, SIGKILL); /* whatever it left behind in its group */
    p->pid = 0;
    close_fd(&p->req_fd);
    close_fd(&p->rep_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    handler_hello_clear(&p->hello);
    linebuf_clear(&p->rep);
    p->tail.text[0] = '\0';
}

/* Called at each round of handler_proc_wait (handler_proc_set_meanwhile). */
static void (*g_meanwhile)(void);

void handler_proc_set_meanwhile(void (*fn)(void))
{
    g_meanwhile = fn;
}

void handler_proc_idle(handler_proc_t *p)
{
    if (p->pid <= 0 || p->inflight > 0)
        return; /* not running, or its jobs' waits read it (handler_proc_wait, handler_proc_run) */
    struct pollfd fds[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
    if (poll(fds, 2, 0) > 0)
        pump_output(p, fds[0].revents, fds[1].revents);
    reap_if_ended(p);
}

int handler_proc_start(handler_proc_t *p, char *err, size_t errlen)
{
    reap_if_ended(p);
    if (p->pid > 0)
        return 0;
    if (spawn(p, err, errlen) != 0)
        return -1;
    int64_t until = clock_mono_ms() + p->def->start_timeout_ms;
    size_t consumed = 0;
    for (;;) {
        const char *line;
        size_t len;
        int got = linebuf_next(&p->rep, &consumed, &line, &len);
        if (got == 1) {
            char why[400], bytes[512];
            if (handler_wire_hello(line, len, &p->hello, why, sizeof why) == 0) {
                linebuf_drop(&p->rep, consumed);
                log_info("handler started", LF_S("handler", p->def->name), LF_I("handler_pid", p->pid),
                         LF_I("max_jobs", p->hello.max_jobs));
                return 0;
            }
            handler_line_excerpt(line, len, bytes, sizeof bytes);
            char what[1100];
            snprintf(what, sizeof what, "sent a malformed announcement: %s; its first bytes: %s", why, bytes);
            fail_start(p, 1, what, err, errlen);
            return -1;
        }
        int64_t left = until - clock_mono_ms();
        if (got < 0 || left <= 0) {
            fail_start(p, 1, got < 0 ? "sent an announcement line over 64 MiB" :
                       "did not announce its types within its start_timeout", err, errlen);
            return -1;
        }
        struct pollfd fds[3] = { { p->rep_fd, POLLIN, 0 }, { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
        if (poll(fds, 3, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR) {
            fail_start(p, 1, "could not be watched (poll failed)", err, errlen);
            return -1;
        }
        pump_output(p, fds[1].revents, fds[2].revents);
        if (fds[0].revents) {
            int eof = linebuf_fill(p->rep_fd, &p->rep);
            if (eof != 0) {
                fail_start(p, 0, "exited before it announced its types", err, errlen);
                return -1;
            }
        }
    }
}

/* Whether the running handler announced `type`. */
static int announced(const handler_proc_t *p, const char *type)
{
    for (size_t i = 0; i < json_array_size(p->hello.types); i++)
        if (strcmp(json_string_value(json_array_get(p->hello.types, i)), type) == 0)
            return 1;
    return 0;
}

static void announced_text(const handler_proc_t *p, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(p->hello.types) && used < outlen; i++) {
        int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
                         json_string_value(json_array_get(p->hello.types, i)));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int handler_proc_check_types(const handler_proc_t *p, char *err, size_t errlen)
{
    char missing[800] = "", list[800];
    for (size_t i = 0; i < p->def->ntypes; i++)
        if (!announced(p, p->def->types[i]))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
                     p->def->types[i]);
    if (missing[0] == '\0')
        return 0;
    announced_text(p, list, sizeof list);
    snprintf(err, errlen, "handler %s does not announce %s, which [handler %s] lists (it announced: %s)",
             p->def->name, missing, p->def->name, list);
    return -1;
}

static int outbox_add(outbox_t *o, char *line, size_t len)
{
    if (line == NULL)
        return -1;
    if (o->off == o->len) {
        free(o->data);
        o->data = line;
        o->len = len;
        o->off = 0;
        return 0;
    }
    char *joined = realloc(o->data, o->len + len);
    if (joined == NULL) {
        free(line);
        return -1;
    }
    memcpy(joined + o->len, line, len);
    free(line);
    o->data = joined;
    o->len += len;
    return 0;
}

/* Writes what the pipe takes; -1 when the handler closed it. */
static int outbox_flush(handler_proc_t *p)
{
    outbox_t *o = &p->box;
    while (o->off < o->len) {
        ssize_t n = write(p->req_fd, o->data + o->off, o->len - o->off);
        if (n > 0) {
            o->off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        return -1;
    }
    return 0;
}

int handler_proc_capacity(const handler_proc_t *p)
{
    return p->pid > 0 && p->hello.types != NULL ? p->hello.max_jobs : 1;
}

/* Ends a job: its flight is freed, its id remembered, *d filled. */
static void end_flight(handler_proc_t *p, flight_t *f, handler_outcome_t outcome, json_t *data, const char *err,
                       handler_done_t *d)
{
    d->tag = f->tag;
    d->outcome = outcome;
    d->data = data;
    size_t len = err ? strlen(err) : 0;
    if (len >= sizeof d->err)
        len = sizeof d->err - 1; /* cut at a whole character below */
    memcpy(d->err, err ? err : "", len);
    d->err[len] = '\0';
    errmsg_utf8_trim(d->err);
    snprintf(p->recent[p->recent_next], sizeof p->recent[0], "%s", f->id);
    p->recent_next = (p->recent_next + 1) % RECENT_IDS;
    f->used = 0;
    p->inflight--;
}

/* The process is gone (killed or dead; `why` says how, `tail` the end of
 * its stderr, NULL when there is none to quote): every job it had ends, a
 * job being cancelled as its cancel's reason (its stopped_why first), the
 * others as crashed. Fills done from *n on. */
static void end_all(handler_proc_t *p, const char *why, const char *tail, handler_done_t *done, size_t *n)
{
    for (int i = 0; i < p->nflights; i++) {
        flight_t *f = &p->flights[i];
        if (!f->used)
            continue;
        char prefix[sizeof f->stopped_why + 2] = "", msg[sizeof done->err];
        if (f->cancelling)
            snprintf(prefix, sizeof prefix, "%s; ", f->stopped_why);
        handler_crash_error(prefix, why, tail, msg, sizeof msg);
        end_flight(p, f, f->cancelling ? f->reason : HANDLER_CRASHED, NULL, msg, &done[(*n)++]);
    }
    p->box.off = p->box.len = 0;
}

/* Kills the process (its group with it) and ends every job it had. */
static void kill_all(handler_proc_t *p, int kill_group, const char *what, handler_done_t *done, size_t *n)
{
    char head[1400], tail[HANDLER_STDERR_TAIL + 1];
    fail_process(p, kill_group, what, head, sizeof head, tail);
    linebuf_clear(&p->rep); /* what it said is void */
    end_all(p, head, tail, done, n);
}

static flight_t *find_flight(handler_proc_t *p, const char *id)
{
    for (int i = 0; i < p->nflights; i++)
        if (p->flights[i].used && strcmp(p->flights[i].id, id) == 0)
            return &p->flights[i];
    return NULL;
}

static int recently_ended(const handler_proc_t *p, const char *id)
{
    for (int i = 0; i < RECENT_IDS; i++)
        if (p->recent[i][0] && strcmp(p->recent[i], id) == 0)
            return 1;
    return 0;
}

int handler_proc_submit(handler_proc_t *p, const handler_request_t *job, int64_t deadline_mono_ms,
                        const task_hooks_t *hooks, void *tag, handler_done_t *done)
{
    memset(done, 0, sizeof *done);
    done->tag = tag;
    if (p->inflight == 0)
        p->tail.text[0] = '\0'; /* a crash quotes what it wrote for its jobs */
    int64_t now = clock_mono_ms();
    reap_if_ended(p);
    if (p->pid <= 0 && now < p->next_start_ms) {
        snprintf(done->err, sizeof done->err, "%s", p->start_error);
        done->outcome = HANDLER_NOT_STARTED;
        done->retry_in_ms = p->next_start_ms - now;
        return -1;
    }
    if (handler_proc_start(p, done->err, sizeof done->err) != 0) {
        p->start_backoff_ms = p->start_backoff_ms ? p->start_backoff_ms * 2 : 1000;
        if (p->start_backoff_ms > 30000)
            p->start_backoff_ms = 30000;
        p->next_start_ms = clock_mono_ms() + p->start_backoff_ms;
        snprintf(p->start_error, sizeof p->start_error, "%s", done->err);
        done->outcome = HANDLER_NOT_STARTED;
        done->retry_in_ms = p->start_backoff_ms;
        return -1;
    }
    p->start_backoff_ms = 0;
    if (!announced(p, job->type)) {
        char list[300], listed[300];
        announced_text(p, list, sizeof list);
        handler_types_text(p->def, listed, sizeof listed);
        snprintf(done->err, sizeof done->err, "handler %s does not serve task type '%s' (it announced: %s; "
                 "[handler %s] lists: %s); fix its code or the section", p->def->name, job->type, list,
                 p->def->name, listed);
        done->outcome = HANDLER_FAIL;
        return -1;
    }
    const task_arg_t *schema = handler_schema_table(p->hello.schema, job->type);
    if (schema != NULL && task_schema_check(job->type, schema, job->args, done->err, sizeof done->err) != 0) {
        done->outcome = HANDLER_FAIL; /* the handler never sees args its schema refuses */
        return -1;
    }
    if (p->nflights < p->hello.max_jobs) {
        flight_t *grown = realloc(p->flights, (size_t)p->hello.max_jobs * sizeof *grown);
        if (grown == NULL)
            goto oom;
        memset(grown + p->nflights, 0, (size_t)(p->hello.max_jobs - p->nflights) * sizeof *grown);
        p->flights = grown;
        p->nflights = p->hello.max_jobs;
    }
    flight_t *f = NULL;
    for (int i = 0; i < p->hello.max_jobs && f == NULL; i++)
        if (!p->flights[i].used)
            f = &p->flights[i];
    if (f == NULL || find_flight(p, job->id) != NULL) {
        snprintf(done->err, sizeof done->err, "handler %s has %s (a worker bug)", p->def->name,
                 f == NULL ? "no room for another job" : "this job running already");
        done->outcome = HANDLER_CRASHED;
        return -1;
    }
    size_t len = 0;
    char *line = handler_wire_request(job, &len);
    if (outbox_add(&p->box, line, len) != 0)
        goto oom;
    memset(f, 0, sizeof *f);
    f->used = 1;
    snprintf(f->id, sizeof f->id, "%s", job->id);
    f->tag = tag;
    f->deadline_mono_ms = deadline_mono_ms;
    f->timeout_ms = job->timeout_ms;
    f->hooks = hooks;
    f->next_poll = clock_mono_ms() + CANCEL_POLL_MS;
    p->inflight++;
    if (outbox_flush(p) != 0)
        p->box.off = p->box.len; /* it closed its requests: ending; its exit says why */
    return 0;
oom:
    snprintf(done->err, sizeof done->err, "out of memory sending a job to handler %s", p->def->name);
    done->outcome = HANDLER_CRASHED;
    return -1;
}

/* A result of job f that tickq cannot read (`why`: a NUL, an integer
 * beyond 64 bits...): the job fails for good, as a result that is not JSON
 * does, and the handler, which replied once as the protocol asks, keeps
 * running its other jobs. */
static void end_unreadable(handler_proc_t *p, flight_t *f, const char *why, handler_done_t *d)
{
    char msg[sizeof d->err];
    if (f->cancelling)
        snprintf(msg, sizeof msg, "%s; handler %s stopped it (it replied with a result tickq cannot read, "
                 "discarded)", f->stopped_why, p->def->name);
    else
        snprintf(msg, sizeof msg, "handler %s replied with a result tickq cannot read: %s", p->def->name, why);
    log_warn("handler result refused: tickq cannot read it", LF_S("handler", p->def->name), LF_S("job_id", f->id),
             LF_S("error", why));
    end_flight(p, f, f->cancelling ? f->reason : HANDLER_FAIL, NULL, msg, d);
}

/* Acts on one line from the handler: 0, or -1 when it was malformed (the
 * process is then killed and every job ended). */
static int on_line(handler_proc_t *p, const char *line, size_t llen, handler_done_t *done, size_t *n)
{
    handler_msg_t m;
    char bad[500] = "", bytes[512], why[1100];
    flight_t *f = NULL;
    int parsed = handler_wire_message(line, llen, &m, bad, sizeof bad) == 0;
    if (!parsed && m.unreadable) {
        if ((f = find_flight(p, m.id)) != NULL) {
            end_unreadable(p, f, bad, &done[(*n)++]);
            return 0;
        }
        char what[sizeof bad];
        snprintf(what, sizeof what, "%s", bad);
        snprintf(bad, sizeof bad, "a result for job %.80s, which it is not running, holding %.300s", m.id, what);
    }
    if (parsed && (f = find_flight(p, m.id)) == NULL) {
        if (m.kind == HANDLER_MSG_PROGRESS && recently_ended(p, m.id)) {
            handler_msg_clear(&m); /* sent as its job ended: too late to show */
            return 0;
        }
        snprintf(bad, sizeof bad, "a message for job %.80s, which it is not running", m.id);
    }
    if (bad[0]) {
        handler_msg_clear(&m);
        handler_line_excerpt(line, llen, bytes, sizeof bytes);
        snprintf(why, sizeof why, "sent a malformed message: %s; its first bytes: %s", bad, bytes);
        kill_all(p, 1, why, done, n);
        return -1;
    }
    if (m.kind == HANDLER_MSG_PROGRESS) {
        if (!f->cancelling && f->hooks && f->hooks->progress)
            f->hooks->progress(f->hooks->user, m.fraction, m.message);
    } else if (f->cancelling) {
        char msg[sizeof done->err];
        snprintf(msg, sizeof msg, "%s; handler %s stopped it (it replied %s%s)", f->stopped_why, p->def->name,
                 m.kind == HANDLER_MSG_RESULT ? "with a result, discarded" : "an error: ",
                 m.kind == HANDLER_MSG_ERROR ? m.error : "");
        end_flight(p, f, f->reason, NULL, msg, &done[(*n)++]);
    } else if (m.kind == HANDLER_MSG_RESULT) {
        end_flight(p, f, HANDLER_DONE, json_incref(m.data), NULL, &done[(*n)++]);
    } else {
        end_flight(p, f, m.retry ? HANDLER_RETRY : HANDLER_FAIL, NULL,
                   m.error[0] ? m.error : "the handler failed the job without a message", &done[(*n)++]);
    }
    handler_msg_clear(&m);
    return 0;
}

/* Deadlines and cancels of the running jobs: a cancel message when one is
 * due; the kill when one has not stopped within cancel_grace. Returns the
 * time it next needs to look, or -1 when it killed the process. */
static int64_t watch_flights(handler_proc_t *p, int64_t now, handler_done_t *done, size_t *n)
{
    int64_t wake = INT64_MAX;
    for (int i = 0; i < p->nflights; i++) {
        flight_t *f = &p->flights[i];
        if (!f->used)
            continue;
        if (!f->cancelling && (now >= f->deadline_mono_ms ||
                               (now >= f->next_poll && f->hooks && f->hooks->cancel_requested &&
                                f->hooks->cancel_requested(f->hooks->user)))) {
            f->reason = now >= f->deadline_mono_ms ? HANDLER_TIMEOUT : HANDLER_CANCELLED;
            size_t len = 0;
            char *line = handler_wire_cancel(f->id, f->reason == HANDLER_TIMEOUT ? "timeout" : "cancel", &len);
            f->grace_end = outbox_add(&p->box, line, len) == 0 ? now + p->def->cancel_grace_ms : now;
            f->cancelling = 1;
            if (f->reason == HANDLER_TIMEOUT)
                snprintf(f->stopped_why, sizeof f->stopped_why, "Job exceeded its timeout of %.3g s",
                         (double)f->timeout_ms / 1000.0);
            else
                snprintf(f->stopped_why, sizeof f->stopped_why, "Job cancelled");
            log_info(f->reason == HANDLER_TIMEOUT ? "job timed out; cancel sent to its handler"
                                                  : "job cancelled; cancel sent to its handler",
                     LF_S("job_id", f->id), LF_S("handler", p->def->name),
                     LF_F("cancel_grace_s", (double)p->def->cancel_grace_ms / 1000.0));
        }
        if (!f->cancelling && now >= f->next_poll)
            f->next_poll = now + CANCEL_POLL_MS;
        if (f->cancelling && now >= f->grace_end) {
            char what[400];
            snprintf(what, sizeof what, "did not stop job %s within its cancel_grace of %.3g s and was killed",
                     f->id, (double)p->def->cancel_grace_ms / 1000.0);
            kill_all(p, 1, what, done, n);
            return -1;
        }
        int64_t next = f->cancelling ? f->grace_end : f->deadline_mono_ms < f->next_poll ? f->deadline_mono_ms
                                                                                         : f->next_poll;
        if (next < wake)
            wake = next;
    }
    return wake;
}

size_t handler_proc_wait(handler_proc_t *p, int64_t wait_ms, handler_done_t *done, size_t max)
{
    size_t n = 0;
    int64_t until = clock_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    /* Room for every job it has: a kill ends them all at once. */
    if (max < (size_t)p->inflight || p->inflight == 0)
        return 0;
    /* What it said while nobody listened (the child ran another job) is
     * read before any deadline is judged: a reply in time counts. Its
     * output first, as in the loop below: a line it printed before a reply
     * is logged with that reply's job, still in flight. */
    pump_output(p, POLLIN, POLLIN);
    if (p->pid > 0 && linebuf_fill(p->rep_fd, &p->rep) > 0 && memchr(p->rep.buf, '\n', p->rep.len) == NULL) {
        kill_all(p, 0, p->inflight > 1 ? "died while running its jobs" : "died while running the job", done, &n);
        return n;
    }
    for (;;) {
        size_t consumed = 0;
        const char *line;
        size_t llen;
        int got;
        if (p->pid <= 0) { /* cannot happen with jobs running; end them rather than wait for ever */
            end_all(p, "handler is not running", NULL, done, &n);
            return n;
        }
        while ((got = linebuf_next(&p->rep, &consumed, &line, &llen)) == 1)
            if (on_line(p, line, llen, done, &n) != 0)
                return n;
        linebuf_drop(&p->rep, consumed);
        if (got < 0) {
            kill_all(p, 1, "sent a message line over 64 MiB", done, &n);
            return n;
        }
        int64_t now = clock_mono_ms();
        int64_t wake = watch_flights(p, now, done, &n);
        if (wake < 0 || n > 0 || p->inflight == 0 || now >= until)
            return n;
        if (p->box.off < p->box.len && outbox_flush(p) != 0)
            p->box.off = p->box.len; /* it closed its requests: ending; its exit says why */
        if (wake > until)
            wake = until;
        int64_t left = wake - clock_mono_ms();
        struct pollfd fds[4] = { { p->rep_fd, POLLIN, 0 }, { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 },
                                 { p->box.off < p->box.len ? p->req_fd : -1, POLLOUT, 0 } };
        if (poll(fds, 4, left < 0 ? 0 : left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR) {
            kill_all(p, 1, "could not be watched (poll failed)", done, &n);
            return n;
        }
        pump_output(p, fds[1].revents, fds[2].revents);
        if (g_meanwhile != NULL)
            g_meanwhile(); /* the other handlers' output, while this one's jobs run */
        if (fds[0].revents) {
            int eof = linebuf_fill(p->rep_fd, &p->rep);
            if (eof < 0) {
                kill_all(p, 1, "could not be read (out of memory?)", done, &n);
                return n;
            }
            if (eof > 0 && memchr(p->rep.buf, '\n', p->rep.len) == NULL) {
                kill_all(p, 0, p->inflight > 1 ? "died while running its jobs" : "died while running the job", done,
                         &n);
                return n;
            }
        }
    }
}

handler_outcome_t handler_proc_run(handler_proc_t *p, const handler_request_t *job, int64_t deadline_mono_ms,
                                   const task_hooks_t *hooks, json_t **data, char *err, size_t errlen,
                                   int64_t *retry_in_ms)
{
    handler_done_t one, *done = NULL;
    int tag;
    *data = NULL;
    if (handler_proc_submit(p, job, deadline_mono_ms, hooks, &tag, &one) != 0) {
        snprintf(err, errlen, "%s", one.err);
        *retry_in_ms = one.retry_in_ms;
        return one.outcome;
    }
    size_t room = (size_t)p->nflights;
    if ((done = calloc(room, sizeof *done)) == NULL) {
        snprintf(err, errlen, "out of memory waiting for handler %s", p->def->name);
        return HANDLER_CRASHED;
    }
    handler_outcome_t outcome = HANDLER_CRASHED;
    for (int ended = 0; !ended;) {
        size_t n = handler_proc_wait(p, 1000, done, room);
        for (size_t i = 0; i < n; i++) {
            if (done[i].tag == &tag) {
                outcome = done[i].outcome;
                *data = done[i].data;
                snprintf(err, errlen, "%s", done[i].err);
                ended = 1;
            } else {
                json_decref(done[i].data); /* not ours: only one runs this way */
            }
        }
    }
    free(done);
    return outcome;
}
