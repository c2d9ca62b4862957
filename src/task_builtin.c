/* task_builtin.c — the built-in task types for operations and tests:
 * noop, echo, sleep and fail. */
#include "task_builtin.h"

#include <signal.h>
#include <unistd.h>

#include "clock.h"

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
    json_t *ms = json_object_get(ctx->args, "ms");
    if (!json_is_integer(ms) || json_integer_value(ms) < 0 || json_integer_value(ms) > 86400000)
        return task_error(out, TASK_PERMANENT,
                          "sleep needs args {\"ms\": N} with N an integer from 0 to 86400000");
    int64_t total = json_integer_value(ms);
    /* Sleep through signals: a graceful shutdown lets running jobs finish. */
    clock_sleep_ms(total, NULL);
    out->data = json_pack("{s:I}", "slept_ms", (json_int_t)total);
    return TASK_OK;
}

task_status_t task_fail(const task_ctx_t *ctx, task_out_t *out)
{
    if (json_is_true(json_object_get(ctx->args, "crash"))) {
        /* Simulates a worker killed mid-job (OOM killer, kill -9). */
        raise(SIGKILL);
    }
    json_t *times = json_object_get(ctx->args, "times");
    if (times != NULL) {
        if (!json_is_integer(times) || json_integer_value(times) < 0)
            return task_error(out, TASK_PERMANENT, "fail: \"times\" must be a non-negative integer");
        if (ctx->attempt > json_integer_value(times)) {
            out->data = json_pack("{s:I, s:i}", "failed_attempts", (json_int_t)json_integer_value(times),
                                  "succeeded_on_attempt", ctx->attempt);
            return TASK_OK;
        }
    }
    json_t *msg = json_object_get(ctx->args, "message");
    const char *text = json_is_string(msg) ? json_string_value(msg) : "failed on purpose (fail task)";
    task_status_t status = json_is_true(json_object_get(ctx->args, "permanent")) ? TASK_PERMANENT
                                                                                  : TASK_TRANSIENT;
    return task_error(out, status, "%s", text);
}
