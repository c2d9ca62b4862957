/* handler_output.c — what a handler process writes, read and logged
 * (handler_output.h). */
#include "handlers/handler_output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/log.h"
#include "core/utf8.h"

#define READ_CHUNK 65536
#define OUTPUT_LINE_MAX 4096 /* a log line of the handler's output */

static int reserve(linebuf_t *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : READ_CHUNK;
    while (cap < b->len + more)
        cap *= 2;
    char *grown = realloc(b->buf, cap);
    if (grown == NULL)
        return -1;
    b->buf = grown;
    b->cap = cap;
    return 0;
}

int linebuf_fill(int fd, linebuf_t *b)
{
    for (;;) {
        if (reserve(b, READ_CHUNK) != 0)
            return -1;
        ssize_t n = read(fd, b->buf + b->len, b->cap - b->len);
        if (n > 0) {
            b->len += (size_t)n;
            /* A line past the limit is refused by linebuf_next: no need
             * to read (and hold) the rest of it now. */
            if (n < READ_CHUNK || b->len > HANDLER_LINE_MAX + READ_CHUNK)
                return 0;
            continue;
        }
        if (n == 0)
            return 1;
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    }
}

int linebuf_next(linebuf_t *b, size_t *consumed, const char **line, size_t *len)
{
    /* Bytes scanned before hold no newline: a long line is scanned once. */
    size_t from = b->scanned > *consumed ? b->scanned : *consumed;
    char *nl = from < b->len ? memchr(b->buf + from, '\n', b->len - from) : NULL;
    if (nl == NULL) {
        b->scanned = b->len;
        return b->len - *consumed > HANDLER_LINE_MAX ? -1 : 0;
    }
    *line = b->buf + *consumed;
    *len = (size_t)(nl - *line);
    *consumed += *len + 1;
    return 1;
}

void linebuf_drop(linebuf_t *b, size_t consumed)
{
    memmove(b->buf, b->buf + consumed, b->len - consumed);
    b->len -= consumed;
    b->scanned = b->scanned > consumed ? b->scanned - consumed : 0;
}

void linebuf_clear(linebuf_t *b)
{
    b->len = b->scanned = 0;
}

void linebuf_free(linebuf_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* Appends text (UTF-8) to the tail, which keeps its last
 * HANDLER_STDERR_TAIL bytes from the start of a character. */
static void tail_keep(stderr_tail_t *t, const char *s, size_t n)
{
    size_t have = strlen(t->text);
    if (n >= HANDLER_STDERR_TAIL) {
        s += n - HANDLER_STDERR_TAIL;
        n = HANDLER_STDERR_TAIL;
        have = 0;
    } else if (have + n > HANDLER_STDERR_TAIL) {
        size_t drop = have + n - HANDLER_STDERR_TAIL;
        memmove(t->text, t->text + drop, have - drop + 1);
        have -= drop;
    }
    memcpy(t->text + have, s, n);
    have += n;
    t->text[have] = '\0';
    size_t cut = 0; /* the rest of a character whose start was dropped */
    while (cut < have && ((unsigned char)t->text[cut] & 0xC0) == 0x80)
        cut++;
    memmove(t->text, t->text + cut, have - cut + 1);
}

void handler_output_log(linebuf_t *b, const char *handler, const char *stream, const char *job_ids,
                        stderr_tail_t *tail, int all)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(b->buf + start, '\n', b->len - start);
        size_t end = nl ? (size_t)(nl - b->buf) : b->len;
        if (nl == NULL && !all && end - start <= OUTPUT_LINE_MAX)
            break; /* a part is cut only once the byte after it is here: utf8_cut sees where characters end */
        if (end - start > OUTPUT_LINE_MAX)
            end = start + utf8_cut(b->buf + start, end - start, OUTPUT_LINE_MAX);
        if (end == start && nl == NULL)
            break;
        char line[UTF8_CLEAN_MAX(OUTPUT_LINE_MAX)];
        size_t len = utf8_clean(b->buf + start, end - start, line, sizeof line);
        if (tail != NULL) {
            tail_keep(tail, line, len);
            tail_keep(tail, "\n", 1);
        }
        log_info("handler output", LF_S("handler", handler), LF_S("stream", stream), LF_S("job_id", job_ids),
                 LF_S("line", line));
        start = nl && (size_t)(nl - b->buf) == end ? end + 1 : end;
    }
    memmove(b->buf, b->buf + start, b->len - start);
    b->len -= start;
}

void stderr_tail_end(const stderr_tail_t *tail, char *out)
{
    size_t n = strlen(tail->text);
    while (n > 0 && (tail->text[n - 1] == '\n' || tail->text[n - 1] == ' '))
        n--;
    memcpy(out, tail->text, n);
    out[n] = '\0';
}

void handler_crash_error(const char *prefix, const char *head, const char *tail, char *out, size_t outlen)
{
    static const char intro[] = "; the end of its stderr: ";
    if (tail == NULL || tail[0] == '\0') {
        snprintf(out, outlen, "%s%s%s", prefix, head, tail ? "; its stderr was empty" : "");
        errmsg_utf8_trim(out);
        return;
    }
    size_t used = strlen(prefix) + strlen(head) + sizeof intro - 1;
    size_t room = outlen > used + 1 ? outlen - 1 - used : 0, len = strlen(tail);
    const char *from = tail;
    if (len > room) {
        from = tail + len - room;
        const char *nl = from[-1] == '\n' ? NULL : strchr(from, '\n');
        if (nl != NULL && nl[1] != '\0')
            from = nl + 1;
        while (((unsigned char)*from & 0xC0) == 0x80)
            from++;
    }
    if (*from == '\0') /* no room left for any of it: the head is long already */
        snprintf(out, outlen, "%s%s", prefix, head);
    else
        snprintf(out, outlen, "%s%s%s%s", prefix, head, intro, from);
    errmsg_utf8_trim(out);
}

void handler_line_excerpt(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 120 && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    }
    out[o] = '\0';
    if (n > 120 && o + 4 < outlen)
        snprintf(out + o, outlen - o, "...");
}
