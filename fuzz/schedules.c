/* schedules.c — fuzz target: the schedule config (src/sched/schedule_config.c:
 * INI through libinih, the [scheduler] settings, each [schedule NAME]'s
 * keys, its cron expression, zone, XNYS calendar and session, offset from
 * the close, task and args), as `tickq scheduler` and `tickq schedule`
 * read it.
 *
 * Input: the file's text. Properties: a refused file has a message that
 * names it ("fuzz.ini:LINE: ..."); an accepted one has at least one
 * schedule, each with a known task whose args pass its check, and each
 * schedule's next fire time is after the start and the same when asked
 * from one second before it. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "cmd/schedule_check.h"
#include "cmd/tasks_all.h"
#include "sched/schedule_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tasks_register_all();
    fuzz_quiet_stdio(); /* the warnings' lines */
    return 0;
}

static void check_next(const schedule_t *s, int64_t after)
{
    int64_t next, again;
    if (schedule_next(s, after, &next) != 0)
        return; /* none within the horizon: a day filter may reject every day */
    if (next <= after)
        fuzz_fail("[schedule %s]: next %lld is not after %lld", s->name, (long long)next, (long long)after);
    if (schedule_next(s, next - 1, &again) != 0 || again != next)
        fuzz_fail("[schedule %s]: next after %lld is %lld, from %lld it is %lld", s->name, (long long)after,
                  (long long)next, (long long)(next - 1), (long long)again);
    char a[64], b[64];
    schedule_format_local(s, next, a, sizeof a);
    schedule_format_utc(next, b, sizeof b);
    if (a[0] == '\0' || b[0] == '\0')
        fuzz_fail("[schedule %s]: %lld formats as '%s' / '%s'", s->name, (long long)next, a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    schedule_config_t set;
    char err[2048] = "";
    if (schedule_config_parse(&set, text, "fuzz.ini", schedule_check_task, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.ini", 8) != 0)
            fuzz_fail("refused with a message that does not name the file: '%s'", err);
        free(text);
        return 0;
    }
    if (set.n == 0)
        fuzz_fail("accepted without a schedule");
    for (size_t i = 0; i < set.n; i++) {
        const schedule_t *s = &set.items[i];
        if (s->name[0] == '\0' || task_find(s->task) == NULL || s->args == NULL)
            fuzz_fail("schedule %zu accepted without a name, a known task or args", i);
        if (schedule_check_args(s, TASK_CHECK_CLIENT, err, sizeof err) != 0)
            fuzz_fail("[schedule %s] accepted with args its task refuses: %s", s->name, err);
        char msg[512];
        (void)schedule_zone_warning(s, msg, sizeof msg);
        check_next(s, 1772953199);   /* 2026-03-08T06:59:59Z, the eve of New York's DST */
        check_next(s, 1798761599);   /* 2026-12-31T23:59:59Z */
    }
    (void)schedule_config_print_warnings(&set, "fuzz.ini");
    schedule_config_free(&set);
    free(text);
    return 0;
}
