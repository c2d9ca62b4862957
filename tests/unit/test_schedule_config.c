/* test_schedule_config.c — the configuration file's reader (an inline
 * comment that cut a value is named, on long lines too) and the schedule
 * config's checks: a schedule that loads can be enqueued, the [scheduler]
 * durations' bounds, closures that are trading days, sections once. */
#include <stdlib.h>
#include <string.h>

#include "core/config_file.h"
#include "sched/schedule_config.h"
#include "unit.h"

/* Parses text; 0, or -1 with err checked to hold `want`. */
static int parse(const char *text, schedule_config_t *set, char *err, size_t errlen)
{
    return schedule_config_parse(set, text, "t.ini", NULL, err, errlen);
}

static void refused(const char *text, const char *want, int line)
{
    schedule_config_t set;
    char err[1500];
    if (parse(text, &set, err, sizeof err) == 0) {
        unit_fail(__FILE__, line, "accepted: %s", text);
        schedule_config_free(&set);
    } else if (strstr(err, want) == NULL) {
        unit_fail(__FILE__, line, "error '%s' should mention '%s'", err, want);
    }
}
#define REFUSED(text, want) refused((text), (want), __LINE__)

typedef struct {
    char comment[8];             /* the comment's first character, or "" */
    int line;
    int calls;
} seen_t;

static int remember(void *user, const config_key_t *k)
{
    seen_t *s = user;
    if (strcmp(k->key, "args") == 0) {
        snprintf(s->comment, sizeof s->comment, "%.1s", k->comment != NULL ? k->comment : "");
        s->line = k->line;
    }
    s->calls++;
    return 1;
}

TEST(config_file_names_the_comment_that_cut_a_value)
{
    static const struct { const char *text; const char *comment; } cases[] = {
        { "[s]\nargs = {\"x\":\"a ;b\"}\n", ";" },
        { "[s]\nargs = {\"x\":\"a\t#b\"}\r\n", "#" },
        { "[s]\nargs = {\"x\":\"a;b\"}\n", "" },            /* no space before it: part of the value */
        { "[s]\nargs = {\"x\":\"a;b\"}   \n", "" },
        { "[s]\nargs = ;all of it\n", ";" },               /* the whole value cut: empty */
        { "[s]\nargs=;x\n", "" },                         /* right after '=': the value */
        { "[s]\nargs = 1 ; one\n", ";" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen_t seen = { "", 0, 0 };
        CHECK_INT(config_file_parse(cases[i].text, remember, &seen), 0);
        if (strcmp(seen.comment, cases[i].comment) != 0 || seen.line != 2)
            unit_fail(__FILE__, __LINE__, "case %zu: comment '%s' on line %d, want '%s' on line 2", i, seen.comment,
                      seen.line, cases[i].comment);
    }
    /* A line longer than inih's first buffer (it reads it in chunks, and
     * moves its buffer), after other lines. */
    size_t n = 100000;
    char *text = malloc(n + 200);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    char *p = text + sprintf(text, "[s]\na = 1\nargs = {\"x\": \"");
    memset(p, 'v', n);
    p += n;
    sprintf(p, " #cut\", \"y\": 1}\nb = 2\n");
    seen_t seen = { "", 0, 0 };
    CHECK_INT(config_file_parse(text, remember, &seen), 0);
    CHECK_STR(seen.comment, "#");
    CHECK_INT(seen.line, 3);
    CHECK_INT(seen.calls, 3);
    free(text);
    config_key_t k = { "s", "args", "{\"x\": \"a", 7, 6, ";b\"}" };
    char note[300];
    config_file_cut_note(&k, note, sizeof note);
    CHECK_STR(note, " (the value was cut at ' ;' on line 7: a ';' after a space starts an inline comment; if it "
                    "belongs to the value, write it with no space before it, or in a JSON string as \\u003b)");
    k.comment = NULL;
    config_file_cut_note(&k, note, sizeof note);
    CHECK_STR(note, "");
}

/* Every key a parse hands over, as "section@section_line/key=value@line". */
typedef struct {
    char keys[8][300];
    int n;
} keys_t;

static int remember_keys(void *user, const config_key_t *k)
{
    keys_t *ks = user;
    if (ks->n < 8)
        snprintf(ks->keys[ks->n++], sizeof ks->keys[0], "%s@%d/%s=%s@%d", k->section, k->section_line, k->key,
                 k->value, k->line);
    return 1;
}

TEST(config_file_gives_each_key_the_section_and_header_line_inih_reads)
{
    /* Found by fuzz/handler_config: the line of a key's section header was
     * where the reader saw '[' after spaces and tabs, and its text inih's,
     * cut at 49 bytes; inih also skips a UTF-8 BOM and every blank
     * (isspace) first, reads an indented line after a key as more of its
     * value, and a header without its ']' as an error line. */
    static const struct { const char *text; int rc; const char *want[3]; } cases[] = {
        { "\xEF\xBB\xBF[s]\na = 1\n", 0, { "s@1/a=1@2" } },
        { "\f[s]\n\v[t]\nb = 2\n", 0, { "t@2/b=2@3" } },
        { "[a]\nk = 1\n  [b]\nm = 2\n", 0, { "a@1/k=1@2", "a@1/k=[b]@3", "a@1/m=2@4" } },
        { "[a]\n\n  [b]\nm = 2\n", 0, { "b@3/m=2@4" } },       /* no key before it: a header */
        { "[a]\n[b ;c]\nk = 1\n", 2, { "a@1/k=1@3" } },        /* no ']' before the comment */
        { "k = 1\n[s]\nm = 2\n", 0, { "@0/k=1@1", "s@2/m=2@3" } },
        { "[schedule abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01]\nk = v\n", 0,
          { "schedule abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01@1/k=v@2" } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        keys_t ks = { .n = 0 };
        int rc = config_file_parse(cases[i].text, remember_keys, &ks);
        if (rc != cases[i].rc)
            unit_fail(__FILE__, __LINE__, "case %zu: %d, want %d", i, rc, cases[i].rc);
        int want = 0;
        while (want < 3 && cases[i].want[want] != NULL)
            want++;
        if (ks.n != want)
            unit_fail(__FILE__, __LINE__, "case %zu: %d keys, want %d", i, ks.n, want);
        for (int k = 0; k < ks.n && k < want; k++)
            if (strcmp(ks.keys[k], cases[i].want[k]) != 0)
                unit_fail(__FILE__, __LINE__, "case %zu key %d: '%s', want '%s'", i, k, ks.keys[k],
                          cases[i].want[k]);
    }
}

TEST(a_schedule_name_of_64_characters_is_kept_whole)
{
    /* inih alone cut the header's text at 49 bytes: the schedule was
     * named by its first 40 characters. */
    const char *name = "a123456789b123456789c123456789d123456789e123456789f123456789g123";
    char text[300];
    snprintf(text, sizeof text, "[schedule %s]\ncron = 0 18 * * *\ntask = echo\nargs = {}\n", name);
    schedule_config_t set;
    char err[1500];
    CHECK_INT(parse(text, &set, err, sizeof err), 0);
    if (set.n == 1)
        CHECK_STR(set.items[0].name, name);
    schedule_config_free(&set);
    REFUSED("x = 1\n[schedule s]\ncron = * * * * *\ntask = echo\n",
            "t.ini:1: the key 'x' comes before any section header: put it under one (known: [scheduler], "
            "[schedule NAME], [handler NAME], [pool NAME])");
}

TEST(config_file_duration_says_the_range)
{
    config_key_t k = { "scheduler", "lease_ttl", "5s", 2, 1, NULL };
    int64_t ms = 0;
    char err[400];
    CHECK_INT(config_file_duration(&k, 300, 30000, "5s", &ms, err, sizeof err), 0);
    CHECK_INT(ms, 5000);
    k.value = "30.001s";
    CHECK_INT(config_file_duration(&k, 300, 30000, "5s", &ms, err, sizeof err), -1);
    CHECK_STR(err, "lease_ttl = 30.001s is not a duration from 300 ms to 30 s (e.g. 5s): 30.001 s is too long");
    k.key = "timeout";
    k.value = "0";
    CHECK_INT(config_file_duration(&k, 1, JOB_MAX_TIMEOUT_MS, "600", &ms, err, sizeof err), -1);
    CHECK_STR(err, "timeout = 0 is not a duration of more than 0 and at most 7 days (e.g. 600): 0 ms is too short");
    k.value = "inf";
    CHECK_INT(config_file_duration(&k, 0, 1000, "1s", &ms, err, sizeof err), -1);
    CHECK(strstr(err, "timeout = inf is not a duration from 0 to 1 s (e.g. 1s): not a decimal number") == err);
}

TEST(schedule_jobs_pass_the_enqueue_checks)
{
    schedule_config_t set;
    char err[1500];
    const char *base = "[schedule a]\ncron = * * * * *\ntask = echo\n";
    char text[600];
    snprintf(text, sizeof text, "%stimeout = 168h\nmax_retries = 100\nqueue = %0100d\n", base, 7);
    CHECK_INT(parse(text, &set, err, sizeof err), 0);
    if (set.n == 1) {
        CHECK_INT(set.items[0].timeout_ms, JOB_MAX_TIMEOUT_MS);
        char id[SCHEDULE_JOB_ID_MAX];
        job_spec_t spec;
        schedule_job_id("a", 1772953200, id, sizeof id);
        CHECK_STR(id, "a:2026-03-08T07:00:00Z");
        schedule_job_spec(&set.items[0], id, NULL, &spec);
        CHECK_INT(job_spec_check(&spec, JOB_DEFAULT_MAX_PAYLOAD, err, sizeof err), 0);
        CHECK_INT(spec.timeout_ms, JOB_MAX_TIMEOUT_MS);
        CHECK_INT(spec.max_retries, 100);
        schedule_config_free(&set);
    }
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\ntimeout = 192h\n",
            "t.ini:4: [schedule a]: timeout = 192h is not a duration of more than 0 and at most 7 days (e.g. 600, "
            "90s, 10m, 2h): 8 days is too long");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\nafter = a\ntask = echo\ntimeout = 604801\n",
            "t.ini:7: [schedule b]: timeout = 604801 is not a duration of more than 0 and at most 7 days");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\nqueue = q_low\n",
            "t.ini:4: [schedule a]: queue = q_low names a priority level of queue q: write queue = q and priority = "
            "low");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\nargs = {\"a\": 1, \"a\": 2}\n", "duplicate object key");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\nargs = {\"a\": \"\\u0000\"}\n", "NUL");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\nmax_retries = 101\n", "use an integer from 0 to 100");
}

TEST(scheduler_settings_have_bounds)
{
    schedule_config_t set;
    char err[1500];
    CHECK_INT(parse("[scheduler]\nlease_ttl = 30s\nmisfire_grace = 8784h\nshutdown_wait = 30s\n"
                    "[schedule a]\ncron = * * * * *\ntask = echo\n", &set, err, sizeof err), 0);
    CHECK_INT(set.lease_ttl_ms, SCHEDULER_LEASE_TTL_MAX_MS);
    CHECK_INT(set.misfire_grace_ms, SCHEDULER_MISFIRE_GRACE_MAX_MS);
    CHECK_INT(set.shutdown_wait_ms, SCHEDULER_SHUTDOWN_WAIT_MAX_MS);
    schedule_config_free(&set);
    const char *tail = "[schedule a]\ncron = * * * * *\ntask = echo\n";
    static const char *const bad[][2] = {
        { "lease_ttl = 99999999h", "t.ini:2: lease_ttl = 99999999h is not a duration from 300 ms to 30 s" },
        { "lease_ttl = 100ms", "lease_ttl = 100ms is not a duration from 300 ms to 30 s (e.g. 5s, 15s): 100 ms is "
                               "too short" },
        { "misfire_grace = 8785h", "misfire_grace = 8785h is not a duration from 0 to 366 days" },
        { "shutdown_wait = 999ms", "shutdown_wait = 999ms is not a duration from 1 s to 30 s" },
        { "shutdown_wait = 31s", "shutdown_wait = 31s is not a duration from 1 s to 30 s" },
        { "shutdown_wait = 5s\nshutdown_wait = 5s", "t.ini:3: 'shutdown_wait' is set twice in [scheduler] (first at "
                                                    "line 2)" },
        { "closures = 2027-01-09", "t.ini:2: closures: 2027-01-09 is a Saturday, not a trading day" },
        { "closures = 2027-01-06 2027-01-06", "closures: 2027-01-06 is listed twice" },
        { "closures = 2027-01-06 ;, 2027-01-07", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "[scheduler]\n%s\n%s", bad[i][0], tail);
        if (bad[i][1] != NULL) {
            refused(text, bad[i][1], __LINE__);
            continue;
        }
        CHECK_INT(parse(text, &set, err, sizeof err), 0); /* the comment after it is a comment */
        CHECK_INT(set.xnys.n_closures, 1);
        schedule_config_free(&set);
    }
    /* A holiday is closed anyway: taken, adding nothing (a closure a later
     * version builds in must not break a file that lists it). */
    CHECK_INT(parse("[scheduler]\nclosures = 2027-01-06,2027-12-24\n[schedule a]\ncron = * * * * *\ntask = echo\n",
                    &set, err, sizeof err), 0);
    CHECK_INT(set.xnys.n_closures, 1);
    schedule_config_free(&set);
}

TEST(schedule_sections_appear_once)
{
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule a]\ncron = 1 * * * *\n",
            "t.ini:4: [schedule a] appears twice (first at line 1): write each section once");
    REFUSED("[scheduler]\nlease_ttl = 5s\n[schedule a]\ncron = * * * * *\ntask = echo\n\n[scheduler]\n"
            "misfire_grace = 1h\n", "t.ini:7: [scheduler] appears twice (first at line 1)");
    REFUSED("[schedule a]\ncron = * * * * *\ntask = echo\ntask = echo\n",
            "t.ini:4: 'task' is set twice in [schedule a] (first at line 3)");
}
