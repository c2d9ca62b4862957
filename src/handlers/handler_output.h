/* handler_output.h — what a handler process writes: its pipes read into
 * lines (the reply pipe's messages, its stdout and stderr), its stdout and
 * stderr logged line by line, the end of its stderr kept for the error of
 * a crash, and the words for a line that is not a message.
 *
 * handler_proc.c owns the process and its pipes; this file only handles
 * the bytes that come out of them. */
#ifndef TICKQ_HANDLER_OUTPUT_H
#define TICKQ_HANDLER_OUTPUT_H

#include <stddef.h>

#define HANDLER_LINE_MAX (64u << 20) /* a message line: 64 MiB */
#define HANDLER_STDERR_TAIL 1024     /* the end of stderr a crash quotes */

/* Bytes read from one of the handler's pipes, split into lines. */
typedef struct {
    char *buf;
    size_t len, cap;
    size_t scanned;              /* bytes from the start known to hold no newline */
} linebuf_t;

/* Reads what fd has now (it is non-blocking) into b: 1 at end of file, -1
 * on an error (out of memory included), else 0. */
int linebuf_fill(int fd, linebuf_t *b);
/* The next complete line from *consumed: 1 with *line and *len (valid
 * until the next fill or drop; *consumed moved past it), 0 when none is
 * complete, -1 when a line runs past HANDLER_LINE_MAX. */
int linebuf_next(linebuf_t *b, size_t *consumed, const char **line, size_t *len);
/* Drops the first `consumed` bytes (the lines linebuf_next returned). */
void linebuf_drop(linebuf_t *b, size_t consumed);
/* Empties b, keeping its memory. */
void linebuf_clear(linebuf_t *b);
void linebuf_free(linebuf_t *b);

/* The last HANDLER_STDERR_TAIL bytes of a handler's stderr, from the start
 * of a character. */
typedef struct {
    char text[HANDLER_STDERR_TAIL + 1];
} stderr_tail_t;

/* Logs the complete lines in b (all of them, the last one unended too,
 * when `all`: at end of file) as "handler output" with the handler's name,
 * the stream ("stdout", "stderr") and job_ids (the jobs running, "" for
 * none), and drops them from b. A line is made text (utf8.h: what is not
 * UTF-8, and NUL, as U+FFFD) whole, and one longer than 4,096 bytes is
 * logged in parts cut at characters. tail (NULL: none) keeps them too. */
void handler_output_log(linebuf_t *b, const char *handler, const char *stream, const char *job_ids,
                        stderr_tail_t *tail, int all);
/* The tail, its trailing newlines and spaces dropped, into out
 * (HANDLER_STDERR_TAIL + 1 bytes); "" when it holds nothing. */
void stderr_tail_end(const stderr_tail_t *tail, char *out);

/* A crash's error into out: prefix (may be ""), head, then the end of
 * stderr (NULL: none to quote). The message fits outlen whole, so what is
 * cut is the START of stderr: the quote keeps its last lines, from the
 * start of a line (from a character when its last line alone is too long),
 * because the last lines say what happened (a traceback's exception). */
void handler_crash_error(const char *prefix, const char *head, const char *tail, char *out, size_t outlen);

/* The first bytes of a line that is not a message, for an error: printable
 * ASCII, the rest escaped, "..." when cut. */
void handler_line_excerpt(const char *s, size_t n, char *out, size_t outlen);

#endif
