/* task_builtin.c — the built-in task types for operations and tests:
 * noop, echo, sleep, spin and fail. */
#include "core/task_builtin.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

task_status_t task_noop(const task_ctx_t *ctx, task_out_t *out)
{
    (void)ctx;
    (void)out;
    return TASK_OK;
}

task_status_t task_echo(const task_ctx_t *ctx, task_out_t *out)
{
    out->data = json_deep_copy(ctx->args);
    return TASK_OK;
}

task_status_t task_sleep(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t total = task_arg_int(ctx, "ms");
    /* Sleep through signals: a graceful shutdown lets running jobs finish. */
    clock_sleep_ms(total, NULL);
    out->data = json_pack("{s:I}", "slept_ms", (json_int_t)total);
    return TASK_OK;
}

/* CPU time this thread has used, in microseconds. */
static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

task_status_t task_spin(const task_ctx_t *ctx, task_out_t *out)
{
    int64_t total = task_arg_int(ctx, "ms");
    /* CPU time, not wall time: a job costs the same work however busy the
     * host is (a busy host stretches it in wall time instead). */
    int64_t end = thread_cpu_us() + total * 1000;
    volatile uint64_t x = 1;
    while (thread_cpu_us() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
    out->data = json_pack("{s:I}", "spun_ms", (json_int_t)total);
    return TASK_OK;
}

task_status_t task_fail(const task_ctx_t *ctx, task_out_t *out)
{
    if (task_arg_given(ctx, "times")) { /* a crash too happens only in the first N attempts */
        int64_t times = task_arg_int(ctx, "times");
        if (ctx->attempt > times) {
            out->data = json_pack("{s:I, s:i}", "failed_attempts", (json_int_t)times, "succeeded_on_attempt",
                                  ctx->attempt);
            return TASK_OK;
        }
    }
    if (task_arg_bool(ctx, "crash")) {
        /* Simulates a worker killed mid-job (OOM killer, kill -9). */
        raise(SIGKILL);
    }
    task_status_t status = task_arg_bool(ctx, "permanent") ? TASK_PERMANENT : TASK_TRANSIENT;
    return task_error(out, status, "%s", task_arg_string(ctx, "message"));
}

static const task_arg_t no_args[] = { { .name = NULL } };

static const task_arg_t sleep_args[] = {
    { .name = "ms", .type = TASK_ARG_INT, .flags = TASK_ARG_REQUIRED, .min = 0, .max = 86400000,
      .doc = "milliseconds to sleep (through signals: a graceful shutdown lets it finish)" },
    { .name = NULL }
};

static const task_arg_t spin_args[] = {
    { .name = "ms", .type = TASK_ARG_INT, .flags = TASK_ARG_REQUIRED, .min = 0, .max = 86400000,
      .doc = "milliseconds of CPU time to burn (a busy host stretches it in wall time)" },
    { .name = NULL }
};

static const task_arg_t fail_args[] = {
    { .name = "permanent", .type = TASK_ARG_BOOL, .num = 0,
      .doc = "fail permanently (no retry) rather than transiently" },
    { .name = "times", .type = TASK_ARG_INT, .min = 0, .max = 1000000, .default_doc = "every attempt fails",
      .doc = "fail (or crash) only the first N attempts, then complete" },
    { .name = "message", .type = TASK_ARG_STRING, .str = "failed on purpose (fail task)",
      .doc = "the error message" },
    { .name = "crash", .type = TASK_ARG_BOOL, .num = 0,
      .doc = "kill the worker process running it (SIGKILL), as the OOM killer would" },
    { .name = NULL }
};

const task_def_t task_def_noop = {
    .name = "noop",
    .run = task_noop,
    .summary = "does nothing; returns {}",
    .args = no_args,
};
const task_def_t task_def_echo = {
    .name = "echo",
    .run = task_echo,
    .summary = "returns its args (any JSON object)",
    .args = NULL,
};
const task_def_t task_def_sleep = {
    .name = "sleep",
    .run = task_sleep,
    .summary = "sleeps {\"ms\": N} milliseconds",
    .args = sleep_args,
};
const task_def_t task_def_spin = {
    .name = "spin",
    .run = task_spin,
    .summary = "keeps a CPU busy for {\"ms\": N} milliseconds of CPU time",
    .args = spin_args,
};
const task_def_t task_def_fail = {
    .name = "fail",
    .run = task_fail,
    .summary =
        "fails (transient; {\"permanent\": true}, {\"times\": N}: only the first N attempts, "
        "{\"crash\": true}: kills its worker process)",
    .args = fail_args,
};

static const task_def_t *const builtin_tasks[] = { &task_def_noop, &task_def_echo, &task_def_sleep, &task_def_spin,
                                                     &task_def_fail };

const task_family_t task_family_builtin = TASK_FAMILY(builtin_tasks);
