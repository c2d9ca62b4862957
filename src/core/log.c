/* log.c — structured log lines (JSON lines or logfmt) on stderr.
 *
 * Lines are built in a stack buffer and appended to a process-wide output
 * buffer; a worker child flushes it once per batch, so logging every job costs
 * one write() per batch rather than one per line. Lines are never split across
 * two write() calls. */
#include "core/log.h"

#include "core/clock.h"
#include "core/numfmt.h"
#include "core/utf8.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192

static log_format_t g_format = LOG_FORMAT_JSON;
static log_level_t g_level = LOG_INFO;
static int g_buffered;
static char g_out[PIPE_BUF];
static size_t g_out_len;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

/* getpid() is a system call per line otherwise; a forked child drops the
 * parent's value (pthread_atfork), so every process logs its own pid. */
static pid_t g_pid;
static void forget_pid(void) { g_pid = 0; }
static pid_t log_pid(void)
{
    static int hooked;
    if (!hooked) {
        hooked = 1;
        pthread_atfork(NULL, NULL, forget_pid);
    }
    if (g_pid == 0)
        g_pid = getpid();
    return g_pid;
}

void log_configure(log_format_t format, log_level_t level)
{
    g_format = format;
    g_level = level;
}

int log_parse_format(const char *s, log_format_t *out)
{
    if (strcmp(s, "json") == 0) { *out = LOG_FORMAT_JSON; return 0; }
    if (strcmp(s, "logfmt") == 0) { *out = LOG_FORMAT_LOGFMT; return 0; }
    return -1;
}

int log_parse_level(const char *s, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) { *out = (log_level_t)i; return 0; }
    }
    if (strcmp(s, "warn") == 0) { *out = LOG_WARN; return 0; }
    return -1;
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* stderr is gone: nothing sensible left to do */
        }
        p += w;
        n -= (size_t)w;
    }
}

void log_flush(void)
{
    if (g_out_len > 0)
        write_all(g_out, g_out_len);
    g_out_len = 0;
}

void log_set_buffered(int on)
{
    if (!on)
        log_flush();
    g_buffered = on;
}

/* A tiny append-only string builder over a fixed buffer; overflow truncates.
 * A string value that would leave less than LINE_CLOSE_RESERVE bytes is cut
 * (between characters, marked with an ellipsis) and `cut` set: the fields
 * after it are left out, so that the line still closes (its quote, brace
 * and newline) and parses. */
typedef struct { char *p; size_t len, cap; int cut; } sb_t;

#define LINE_CLOSE_RESERVE 64
#define CUT_MARK "\xe2\x80\xa6" /* U+2026 */

static void sb_put(sb_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap)
        n = b->cap - b->len;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_puts(sb_t *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A string literal, its length known (no strlen). */
#define sb_lit(b, s) sb_put((b), (s), sizeof(s) - 1)

/* v in decimal, as "%lld" writes it (no printf: a line per job start and
 * end made the worker's formatting a fifth of its time per no-op job). */
static void sb_integer(sb_t *b, long long v)
{
    char text[NUMFMT_INTEGER_MAX];
    sb_put(b, text, (size_t)numfmt_integer(v, text));
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += ((size_t)n < b->cap - b->len) ? (size_t)n : b->cap - b->len - 1;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD (utf8.h): a log
 * line is text whatever a field holds (a handler's output, a list entry). */
static void sb_json_string(sb_t *b, const char *s)
{
    s = s ? s : "";
    size_t n = strlen(s);
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        /* A run of bytes written as they are goes in one piece, as far as
         * each of them one by one would still have fitted; the cut itself
         * is made below, byte by byte. */
        size_t room = b->len + LINE_CLOSE_RESERVE < b->cap ? b->cap - b->len - LINE_CLOSE_RESERVE : 0;
        size_t run = i;
        while (run < n && run - i < room && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x80 &&
               s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            sb_put(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        const char *piece = s + i;
        size_t len = 1, step = 1;
        char esc[8];
        if (c >= 0x80) {
            int ok;
            step = len = utf8_next(s + i, n - i, &ok);
            if (!ok) {
                piece = UTF8_REPLACEMENT;
                len = sizeof UTF8_REPLACEMENT - 1;
            }
        } else if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
            piece = esc;
            len = 2;
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            piece = esc;
            len = 6;
        }
        if (b->len + len + LINE_CLOSE_RESERVE > b->cap) {
            sb_put(b, CUT_MARK, sizeof CUT_MARK - 1);
            b->cut = 1;
            break;
        }
        sb_put(b, piece, len);
        i += step;
    }
    sb_put(b, "\"", 1);
}

static void sb_logfmt_value(sb_t *b, const char *s)
{
    s = s ? s : "";
    int quote = (*s == '\0') || !utf8_is_text(s, strlen(s));
    for (const char *c = s; *c && !quote; c++)
        quote = (*c == ' ' || *c == '=' || *c == '"' || (unsigned char)*c < 0x20);
    if (!quote && b->len + strlen(s) + LINE_CLOSE_RESERVE <= b->cap) {
        sb_puts(b, s);
        return;
    }
    sb_json_string(b, s); /* JSON escaping is what logfmt parsers accept */
}

static void sb_number(sb_t *b, const log_field_t *f)
{
    if (f->type == 'i')
        sb_integer(b, f->v.i);
    else if (f->type == 'b')
        sb_puts(b, f->v.i ? "true" : "false");
    else if (isfinite(f->v.d))
        sb_printf(b, "%.6g", f->v.d);
    else
        sb_puts(b, "null");
}

static void format_line(sb_t *b, log_level_t level, const char *msg, va_list ap)
{
    char ts[CLOCK_ISO_LEN];
    clock_iso8601(clock_now_us(), ts);
    int json = (g_format == LOG_FORMAT_JSON);
    if (json) {
        sb_lit(b, "{\"ts\":\"");
        sb_puts(b, ts);
        sb_lit(b, "\",\"level\":\"");
        sb_puts(b, level_names[level]);
        sb_lit(b, "\",\"msg\":");
        sb_json_string(b, msg);
        sb_lit(b, ",\"pid\":");
        sb_integer(b, (long long)log_pid());
    } else {
        sb_printf(b, "ts=%s level=%s msg=", ts, level_names[level]);
        sb_logfmt_value(b, msg);
        sb_printf(b, " pid=%d", (int)log_pid());
    }
    for (;;) {
        log_field_t f = va_arg(ap, log_field_t);
        if (f.key == NULL)
            break;
        if (b->cut) /* a value was cut to fit the line: the rest is left out */
            continue;
        if (json) {
            sb_put(b, ",", 1);
            sb_json_string(b, f.key);
            sb_put(b, ":", 1);
            if (f.type == 's')
                sb_json_string(b, f.v.s);
            else
                sb_number(b, &f);
        } else {
            sb_put(b, " ", 1);
            sb_puts(b, f.key);
            sb_put(b, "=", 1);
            if (f.type == 's')
                sb_logfmt_value(b, f.v.s);
            else
                sb_number(b, &f);
        }
    }
    if (json)
        sb_put(b, "}", 1);
    if (b->len == b->cap) /* truncated: keep the line a line */
        b->len--;
    sb_put(b, "\n", 1);
}

void log_emit(log_level_t level, const char *msg, ...)
{
    if (level < g_level)
        return;
    char line[LINE_MAX_BYTES];
    sb_t b = { line, 0, sizeof line, 0 };
    va_list ap;
    va_start(ap, msg);
    format_line(&b, level, msg, ap);
    va_end(ap);

    if (!g_buffered || level >= LOG_WARN || b.len > sizeof g_out) {
        log_flush();
        write_all(line, b.len);
        return;
    }
    if (g_out_len + b.len > sizeof g_out)
        log_flush();
    memcpy(g_out + g_out_len, line, b.len);
    g_out_len += b.len;
}
