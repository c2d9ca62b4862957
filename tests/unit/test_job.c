/* test_job.c — the checks a new job must pass. */
#include "core/job.h"
#include "unit.h"

static void refused(job_spec_t *s, const char *needle, int line)
{
    char err[512] = "";
    if (job_spec_check(s, 1024, err, sizeof err) == 0)
        unit_fail(__FILE__, line, "job should be refused (expected '%s')", needle);
    else if (strstr(err, needle) == NULL)
        unit_fail(__FILE__, line, "error '%s' should mention '%s'", err, needle);
}

static job_spec_t valid(void)
{
    job_spec_t s;
    job_spec_init(&s);
    s.type = "echo";
    s.args = "{\"x\": 1}";
    s.args_len = strlen(s.args);
    return s;
}

TEST(job_defaults)
{
    job_spec_t s;
    job_spec_init(&s);
    CHECK_STR(s.queue, "backtest");
    CHECK_STR(s.priority, "normal");
    CHECK_INT(s.max_retries, 3);
    CHECK_INT(s.timeout_ms, 0); /* not set: the worker's default */
    CHECK_STR(s.args, "{}");
    char err[256];
    s.type = "noop";
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
}

TEST(job_bad_inputs)
{
    job_spec_t s = valid();
    s.args = "{\"x\": ";
    s.args_len = strlen(s.args);
    refused(&s, "not valid JSON", __LINE__);
    s = valid();
    s.args = "[1, 2]";
    s.args_len = strlen(s.args);
    refused(&s, "an array", __LINE__);
    s.args = "42";
    s.args_len = 2;
    refused(&s, "a scalar", __LINE__);
    s = valid();
    s.type = NULL;
    refused(&s, "missing task type", __LINE__);
    s.type = "bad type!";
    refused(&s, "invalid task type", __LINE__);
    s = valid();
    char big[2048];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    s.args = big;
    s.args_len = strlen(big);
    refused(&s, "over the payload limit", __LINE__);
    s = valid();
    s.timeout_ms = -5000;
    refused(&s, "invalid timeout", __LINE__);
    s.timeout_ms = -1;
    refused(&s, "invalid timeout", __LINE__);
    s.timeout_ms = JOB_MAX_TIMEOUT_MS + 1;
    refused(&s, "at most 7 days", __LINE__);
    s = valid();
    char err[512];
    s.timeout_ms = JOB_TIMEOUT_UNSET;
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    s.timeout_ms = 1;
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    s.timeout_ms = JOB_MAX_TIMEOUT_MS;
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    CHECK(!job_timeout_valid(0) && !job_timeout_valid(-1) && !job_timeout_valid(JOB_MAX_TIMEOUT_MS + 1));
    CHECK(job_timeout_valid(1) && job_timeout_valid(JOB_MAX_TIMEOUT_MS));
    s = valid();
    s.max_retries = -1;
    refused(&s, "max_retries", __LINE__);
    s = valid();
    s.priority = "urgent";
    refused(&s, "priority", __LINE__);
    s = valid();
    s.queue = "q_high";
    refused(&s, "queue name", __LINE__);
    s = valid();
    s.id = "has space";
    refused(&s, "job id", __LINE__);
    s.id = "";
    refused(&s, "job id", __LINE__);
    s = valid();
    s.delay_ms = -1;
    refused(&s, "delay", __LINE__);
}

TEST(job_duplicate_keys_in_args_refused)
{
    job_spec_t s = valid();
    s.args = "{\"a\": 1, \"a\": 2}";
    s.args_len = strlen(s.args);
    refused(&s, "not valid JSON", __LINE__);
}

TEST(job_depends_on_form)
{
    job_spec_t s = valid();
    char err[512];
    s.depends_on = "a";
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    s.depends_on = "a,b,c-1";
    s.after_any = 1;
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    s.depends_on = "";
    refused(&s, "after_any needs depends_on", __LINE__);
    s.after_any = 0;
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0); /* "": none */
    s.depends_on = "a,,b";
    refused(&s, "empty job id", __LINE__);
    s.depends_on = "a,";
    refused(&s, "empty job id", __LINE__);
    s.depends_on = ",a";
    refused(&s, "empty job id", __LINE__);
    s.depends_on = "a,has space";
    refused(&s, "depends_on: invalid job id 'has space'", __LINE__);
    static char many[JOB_MAX_DEPS * 2 + 8];
    size_t n = 0;
    for (int i = 0; i <= JOB_MAX_DEPS; i++) { /* JOB_MAX_DEPS + 1 ids */
        many[n++] = 'x';
        many[n++] = ',';
    }
    many[n - 1] = '\0';
    s.depends_on = many;
    refused(&s, "more than 10000 jobs", __LINE__);
    many[2 * JOB_MAX_DEPS - 1] = '\0'; /* exactly JOB_MAX_DEPS */
    CHECK(job_spec_check(&s, 1024, err, sizeof err) == 0);
    static char long_id[JOB_ID_MAX + 3];
    memset(long_id, 'y', JOB_ID_MAX + 1);
    long_id[JOB_ID_MAX + 1] = '\0';
    s.depends_on = long_id;
    refused(&s, "over 128 characters", __LINE__);
}
