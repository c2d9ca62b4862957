/* test_misc.c — UUIDs, the task registry and built-in handlers, the slot
 * board's sequence lock, log line formatting, and which database a job
 * history stream belongs to. */
#include <fcntl.h>
#include <jansson.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/decimal.h"
#include "data/history.h"
#include "core/log.h"
#include "core/slot.h"
#include "core/task.h"
#include "unit.h"
#include "core/uuid.h"

TEST(uuid_v4_format_and_uniqueness)
{
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    uuid_v4(a);
    uuid_v4(b);
    CHECK_INT(strlen(a), 36);
    CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CHECK(a[14] == '4');
    CHECK(strchr("89ab", a[19]) != NULL);
    CHECK(strcmp(a, b) != 0);
}

/* The default --workers follows the CPUs, but never past what a heartbeat
 * renews in one call. */
TEST(config_default_workers_clamped)
{
    CHECK_INT(config_default_workers(-1), 1);
    CHECK_INT(config_default_workers(0), 1);
    CHECK_INT(config_default_workers(8), 8);
    CHECK_INT(config_default_workers(WORKERS_MAX), WORKERS_MAX);
    CHECK_INT(config_default_workers(WORKERS_MAX + 1), WORKERS_MAX);
    CHECK_INT(config_default_workers(4096), WORKERS_MAX);
    config_t c;
    config_defaults(&c);
    CHECK(c.workers >= 1 && c.workers <= WORKERS_MAX);
}

TEST(task_registry_lookup)
{
    CHECK(task_find("noop") != NULL);
    CHECK(task_find("echo") != NULL);
    CHECK(task_find("sleep") != NULL);
    CHECK(task_find("spin") != NULL);
    CHECK(task_find("fail") != NULL);
    CHECK(task_find("nope") == NULL);
    char names[256];
    task_names(names, sizeof names);
    CHECK(strstr(names, "noop, echo") != NULL);
}

static task_status_t run(const char *type, const char *args_text, task_out_t *out)
{
    json_t *args = json_loads(args_text, 0, NULL);
    task_ctx_t ctx = { .job_id = "id1", .type = type, .queue = "backtest", .worker_id = "w", .attempt = 1, .args = args, .timeout_ms = 1000, .task = task_find(type) };
    out->data = NULL;
    out->error[0] = '\0';
    /* As the worker runs a job: its args checked against the task's table first. */
    task_status_t st = task_check(task_find(type), args, TASK_CHECK_WORKER, out->error, sizeof out->error) != 0
                           ? TASK_PERMANENT
                           : task_find(type)->run(&ctx, out);
    json_decref(args);
    return st;
}

TEST(task_builtins)
{
    task_out_t out;
    CHECK(run("echo", "{\"a\": [1, 2]}", &out) == TASK_OK);
    CHECK(json_is_array(json_object_get(out.data, "a")));
    json_decref(out.data);
    CHECK(run("fail", "{}", &out) == TASK_TRANSIENT);
    CHECK(strstr(out.error, "on purpose") != NULL);
    CHECK(run("fail", "{\"permanent\": true, \"message\": \"bad symbol\"}", &out) == TASK_PERMANENT);
    CHECK_STR(out.error, "bad symbol");
    CHECK(run("sleep", "{\"ms\": 1}", &out) == TASK_OK);
    CHECK_INT(json_integer_value(json_object_get(out.data, "slept_ms")), 1);
    json_decref(out.data);
    CHECK(run("sleep", "{\"ms\": -1}", &out) == TASK_PERMANENT);
    CHECK(run("sleep", "{}", &out) == TASK_PERMANENT);
    CHECK(strstr(out.error, "ms") != NULL);
}

/* spin burns the CPU time it is asked for (the process's CPU clock moves
 * by at least that much), and refuses what sleep refuses. */
TEST(task_spin_burns_cpu_time)
{
    task_out_t out;
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    CHECK(run("spin", "{\"ms\": 30}", &out) == TASK_OK);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    long long used_us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    CHECK(used_us >= 30000);
    CHECK_INT(json_integer_value(json_object_get(out.data, "spun_ms")), 30);
    json_decref(out.data);
    CHECK(run("spin", "{\"ms\": 0}", &out) == TASK_OK);
    json_decref(out.data);
    CHECK(run("spin", "{\"ms\": -1}", &out) == TASK_PERMANENT);
    CHECK(run("spin", "{}", &out) == TASK_PERMANENT);
    CHECK(strstr(out.error, "missing ms") != NULL);
}

TEST(slot_sequence_lock)
{
    slot_t *board = slot_board_new(2);
    CHECK(board != NULL);
    slot_job_t j, got;
    memset(&j, 0, sizeof j);
    j.busy = 1;
    strcpy(j.entry, "1-1");
    strcpy(j.job_id, "job-a");
    j.deadline_mono_ms = 42;
    slot_begin(&board[1], &j);
    slot_read(&board[1], &got);
    CHECK(got.busy == 1);
    CHECK_STR(got.job_id, "job-a");
    CHECK_INT(got.deadline_mono_ms, 42);
    slot_read(&board[0], &got);
    CHECK(got.busy == 0);
    slot_end(&board[1]);
    slot_read(&board[1], &got);
    CHECK(got.busy == 0);
    /* A writer that died mid-write leaves the sequence odd: no job. */
    slot_begin(&board[1], &j);
    atomic_fetch_add(&board[1].seq, 1);
    slot_read(&board[1], &got);
    CHECK(got.busy == 0);
    slot_board_free(board, 2);
}

/* Captures what log_emit writes to stderr. */
static void capture(char *buf, size_t cap, void (*emit)(void))
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    int saved = dup(2);
    dup2(fds[1], 2);
    emit();
    log_flush();
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

static void emit_json(void)
{
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
    log_info("job \"x\" done", LF_S("job_id", "a\nb"), LF_I("attempt", 2), LF_F("ms", 1.5), LF_B("ok", 1));
    log_debug("hidden", LF_S("k", "v"));
}

static void emit_not_text(void)
{
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
    log_info("output", LF_S("line", "bad \xff\xfe\xc3 end \xe2\x82\xac"));
    log_configure(LOG_FORMAT_LOGFMT, LOG_INFO);
    log_info("output", LF_S("line", "x\xff"));
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
}

/* A field that is not UTF-8 still makes a line of text: U+FFFD for each
 * bad sequence, in JSON and in logfmt (quoted). */
TEST(log_lines_are_text_whatever_a_field_holds)
{
    char buf[4096];
    capture(buf, sizeof buf, emit_not_text);
    char *nl = strchr(buf, '\n');
    CHECK(nl != NULL);
    if (nl == NULL)
        return;
    json_error_t e;
    json_t *v = json_loadb(buf, (size_t)(nl - buf), 0, &e);
    CHECK(v != NULL);
    CHECK_STR(json_string_value(json_object_get(v, "line")),
              "bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end \xe2\x82\xac");
    json_decref(v);
    CHECK(strstr(nl + 1, " line=\"x\xef\xbf\xbd\"\n") != NULL);
}

static char g_long_value[12000];

static void emit_long(void)
{
    /* 4,000 bytes that are not UTF-8 (12,000 once each is U+FFFD) and a
     * field after them: more than a log line holds. */
    memset(g_long_value, '\xff', 4000);
    g_long_value[4000] = '\0';
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
    log_info("output", LF_S("line", g_long_value), LF_I("after", 1));
    log_configure(LOG_FORMAT_LOGFMT, LOG_INFO);
    memset(g_long_value, 'x', 10000);
    g_long_value[10000] = '\0';
    log_info("output", LF_S("line", g_long_value), LF_I("after", 1));
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
    log_info("output", LF_S("line", g_long_value), LF_I("after", 1));
}

/* A value longer than a line is cut between characters, marked, and the
 * line still closes: JSON that parses, a logfmt line ending in its quote.
 * A value of plain bytes (written in runs, not byte by byte) is cut where
 * byte by byte it would be: after the last byte that leaves 64 of the
 * 8,192 bytes for closing the line, then the mark, its quote, the brace
 * and the newline (8,192 - 64 + 3 + 1 + 1 + 1 bytes in all). */
TEST(log_a_value_too_long_for_a_line_is_cut_and_the_line_closes)
{
    static char buf[40000];
    capture(buf, sizeof buf, emit_long);
    char *nl = strchr(buf, '\n');
    CHECK(nl != NULL);
    if (nl == NULL)
        return;
    CHECK(nl - buf < 8192);
    json_error_t e;
    json_t *v = json_loadb(buf, (size_t)(nl - buf), 0, &e);
    CHECK(v != NULL);
    const char *line = json_string_value(json_object_get(v, "line"));
    CHECK(line != NULL && strlen(line) > 6000);
    CHECK(line != NULL && strcmp(line + strlen(line) - 3, "\xe2\x80\xa6") == 0);
    CHECK(json_object_get(v, "after") == NULL);
    json_decref(v);
    char *second = nl + 1, *end = strchr(second, '\n');
    CHECK(end != NULL && end - second < 8192);
    CHECK(end != NULL && end[-1] == '"' && strstr(second, " line=\"xxx") != NULL);
    char *third = end ? end + 1 : NULL, *third_end = third ? strchr(third, '\n') : NULL;
    CHECK(third_end != NULL);
    if (third_end == NULL)
        return;
    CHECK_INT((int)(third_end - third + 1), 8192 - 64 + 3 + 1 + 1 + 1);
    CHECK(memcmp(third_end - 6, "x\xe2\x80\xa6\"}\n", 7) == 0);
}

static void emit_logfmt(void)
{
    log_configure(LOG_FORMAT_LOGFMT, LOG_INFO);
    log_info("job done", LF_S("job_id", "abc"), LF_S("error", "two words"), LF_I("attempt", 3));
    log_configure(LOG_FORMAT_JSON, LOG_INFO);
}

TEST(log_json_lines_parse)
{
    char buf[4096];
    capture(buf, sizeof buf, emit_json);
    json_error_t e;
    json_t *v = json_loads(buf, 0, &e);
    CHECK(v != NULL);
    CHECK_STR(json_string_value(json_object_get(v, "msg")), "job \"x\" done");
    CHECK_STR(json_string_value(json_object_get(v, "level")), "info");
    CHECK_STR(json_string_value(json_object_get(v, "job_id")), "a\nb");
    CHECK_INT(json_integer_value(json_object_get(v, "attempt")), 2);
    CHECK(json_is_true(json_object_get(v, "ok")));
    CHECK(json_object_get(v, "ts") != NULL);
    CHECK(strstr(buf, "hidden") == NULL);
    json_decref(v);
}

TEST(log_logfmt_quotes)
{
    char buf[4096];
    capture(buf, sizeof buf, emit_logfmt);
    CHECK(strstr(buf, " level=info msg=\"job done\"") != NULL);
    CHECK(strstr(buf, " job_id=abc ") != NULL);
    CHECK(strstr(buf, " error=\"two words\"") != NULL);
    CHECK(strstr(buf, " attempt=3\n") != NULL);
}

/* The identity that names a database's history stream: a SQLite file is
 * its host's; a PostgreSQL URL names its server, unless that is this host
 * (no host, or a loopback one). */
TEST(history_identity_of_databases)
{
    char id[512];
    history_identity(DB_SQLITE, "/data/tickq.db", "hostA", id, sizeof id);
    CHECK_STR(id, "sqlite:hostA:/data/tickq.db");
    history_identity(DB_POSTGRES, "postgresql://u:***@db.example:5432/tickq", "hostA", id, sizeof id);
    CHECK_STR(id, "postgresql://u:***@db.example:5432/tickq");
    history_identity(DB_POSTGRES, "postgresql://db.example/tickq", "hostA", id, sizeof id);
    CHECK_STR(id, "postgresql://db.example/tickq");
    static const char *const local[] = { "postgresql:///tickq?host=/run/postgresql", "postgresql://u@localhost/t",
                                         "postgres://u:***@127.0.0.1:5432/t", "postgresql://[::1]:5432/t" };
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        char want[512];
        snprintf(want, sizeof want, "%s@hostA", local[i]);
        history_identity(DB_POSTGRES, local[i], "hostA", id, sizeof id);
        CHECK_STR(id, want);
    }
}

TEST(decimal_parse_reads_decimals_only)
{
    double v = 0;
    const struct { const char *s; double v; } good[] = {
        { "0", 0 }, { "-1.5", -1.5 }, { "+2", 2 }, { ".25", 0.25 }, { "3.", 3 }, { "2e-3", 0.002 },
        { "1E+2", 100 }, { "1e-400", 0 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_INT(decimal_parse(good[i].s, &v), 0);
        CHECK(v == good[i].v);
    }
    const char *bad[] = { "", "-", ".", "e3", "1e", "1e+", "0x10", "0x1p3", "inf", "-infinity", "nan", " 1",
                          "1 ", "1,5", "1.2.3", "1e999", "--1", "1e3.5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        CHECK_INT(decimal_parse(bad[i], &v), -1);
        CHECK(v == 42);
    }
}

TEST(decimal_end_stops_where_the_number_does)
{
    const struct { const char *s; int len; } cases[] = {
        { "1.5s", 3 }, { "2*x", 1 }, { ".25)", 3 }, { "3.m", 2 }, { "1e3h", 3 }, { "1e", 1 }, { "1e+", 1 },
        { "1E-2ms", 4 }, { "0x10", 1 }, { "12", 2 }, { ".", -1 }, { "-1", -1 }, { "+1", -1 }, { "x", -1 }, { "", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *end = decimal_end(cases[i].s);
        CHECK_INT(end == NULL ? -1 : (int)(end - cases[i].s), cases[i].len);
    }
}
