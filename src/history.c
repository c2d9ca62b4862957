/* history.c — job history written behind the hot path.
 *
 * A record on the wire and in the supervisor's buffer:
 *   u16 size, u8 kind ('J' job, 'R' retry), u8 0, i32 attempt(s),
 *   i64 started_us (J) or at_us (R), i64 finished_us (J), i32 run,
 *   then NUL-terminated strings: J: job_id type queue state worker error,
 *   R: job_id kind error worker.
 * The supervisor keeps records in this form until it flushes them, then
 * decodes them in place (the strings are already terminated). */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER 28
#define ERROR_MAX 1024
#define FLUSH_CHUNK 4096                /* records per database transaction */
#define MAX_BUFFERED (64u * 1024 * 1024) /* bytes kept while the database is down */

/* Encodes a record into out (PIPE_BUF bytes); returns its size. */
static size_t encode(char *out, char kind, int attempts, int64_t t1, int64_t t2, int run,
                     const char *const *strs, int nstrs)
{
    size_t len = HEADER;
    for (int i = 0; i < nstrs; i++) {
        const char *s = strs[i] ? strs[i] : "";
        size_t n = strlen(s);
        size_t room = PIPE_BUF - len - (size_t)(nstrs - i); /* keep a byte per remaining NUL */
        if (n > ERROR_MAX)
            n = ERROR_MAX;
        if (n > room - 1)
            n = room - 1;
        memcpy(out + len, s, n);
        len += n;
        out[len++] = '\0';
    }
    uint16_t size = (uint16_t)len;
    int32_t a = attempts, n = run > 0 ? run : 1;
    memcpy(out, &size, 2);
    out[2] = kind;
    out[3] = 0;
    memcpy(out + 4, &a, 4);
    memcpy(out + 8, &t1, 8);
    memcpy(out + 16, &t2, 8);
    memcpy(out + 24, &n, 4);
    return len;
}

static size_t encode_job(char *out, const history_rec_t *r)
{
    const char *s[6] = { r->job_id, r->type, r->queue, r->state, r->worker, r->error };
    return encode(out, 'J', r->attempts, r->started_us, r->finished_us, r->run, s, 6);
}

static size_t encode_retry(char *out, const retry_rec_t *r)
{
    const char *s[4] = { r->job_id, r->kind, r->error, r->worker };
    return encode(out, 'R', r->attempt, r->at_us, 0, r->run, s, 4);
}

/* --- worker child side ---------------------------------------------- */

void history_writer_init(history_writer_t *w, int fd)
{
    w->fd = fd;
    w->len = 0;
}

void history_writer_flush(history_writer_t *w)
{
    size_t off = 0;
    while (off < w->len && w->fd >= 0) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* the supervisor is gone: nobody to record for */
        }
        off += (size_t)n;
    }
    w->len = 0;
}

static void append(history_writer_t *w, const char *rec, size_t len)
{
    if (w->len + len > sizeof w->buf)
        history_writer_flush(w);
    memcpy(w->buf + w->len, rec, len);
    w->len += len;
}

void history_write_job(history_writer_t *w, const history_rec_t *r)
{
    char rec[PIPE_BUF];
    append(w, rec, encode_job(rec, r));
}

void history_write_retry(history_writer_t *w, const retry_rec_t *r)
{
    char rec[PIPE_BUF];
    append(w, rec, encode_retry(rec, r));
}

/* --- supervisor side ------------------------------------------------ */

struct history {
    db_t *db;
    char *buf;                  /* encoded records waiting for the database */
    size_t len, cap;
    size_t records;
    char carry[PIPE_BUF];       /* a record cut by the end of a read */
    size_t carry_len;
    unsigned long long dropped;
};

int history_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    (void)fcntl(fds[1], F_SETPIPE_SZ, 1024 * 1024); /* fewer stalls; the default also works */
    return 0;
}

history_t *history_new(db_t *db)
{
    history_t *h = calloc(1, sizeof *h);
    if (h != NULL)
        h->db = db;
    return h;
}

void history_set_db(history_t *h, db_t *db) { h->db = db; }

void history_free(history_t *h)
{
    if (h == NULL)
        return;
    free(h->buf);
    free(h);
}

size_t history_pending(const history_t *h) { return h->records; }
unsigned long long history_dropped(const history_t *h) { return h->dropped; }

static uint16_t size_of(const char *rec)
{
    uint16_t size;
    memcpy(&size, rec, 2);
    return size;
}

/* Drops whole records from the front until `need` more bytes fit the cap. */
static void make_room(history_t *h, size_t need)
{
    size_t off = 0;
    while (h->len - off + need > MAX_BUFFERED && off < h->len) {
        off += size_of(h->buf + off);
        h->records--;
        h->dropped++;
    }
    if (off > 0) {
        memmove(h->buf, h->buf + off, h->len - off);
        h->len -= off;
    }
}

static void keep(history_t *h, const char *data, size_t len, size_t records)
{
    make_room(h, len);
    if (h->len + len > h->cap) {
        size_t cap = h->cap ? h->cap : 64 * 1024;
        while (cap < h->len + len)
            cap *= 2;
        char *p = realloc(h->buf, cap);
        if (p == NULL) {
            h->dropped += records;
            return;
        }
        h->buf = p;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, len);
    h->len += len;
    h->records += records;
}

/* Keeps the whole records at the front of data[0..len); returns the bytes used. */
static size_t keep_whole(history_t *h, const char *data, size_t len)
{
    size_t off = 0, records = 0;
    while (len - off >= HEADER) {
        uint16_t size = size_of(data + off);
        if (size < HEADER || size > PIPE_BUF) { /* cannot happen: resynchronising is impossible, drop */
            off = len;
            break;
        }
        if (off + size > len)
            break;
        off += size;
        records++;
    }
    if (records > 0)
        keep(h, data, off, records);
    return off;
}

int history_read(history_t *h, int fd)
{
    static char chunk[64 * 1024];
    for (;;) {
        size_t have = h->carry_len;
        memcpy(chunk, h->carry, have);
        ssize_t n = read(fd, chunk + have, sizeof chunk - have);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return n == 0 ? 0 : 1;
        }
        size_t total = have + (size_t)n;
        size_t used = keep_whole(h, chunk, total);
        h->carry_len = total - used;
        memcpy(h->carry, chunk + used, h->carry_len);
    }
}

/* The i-th NUL-terminated string after a record's header. */
static const char *field(const char *rec, int i)
{
    const char *p = rec + HEADER;
    while (i-- > 0)
        p += strlen(p) + 1;
    return p;
}

int history_flush(history_t *h, char *err, size_t errlen)
{
    if (h->db == NULL && h->len > 0) {
        snprintf(err, errlen, "no database connection");
        return -1;
    }
    static history_rec_t jobs[FLUSH_CHUNK];
    static retry_rec_t retries[FLUSH_CHUNK];
    size_t off = 0;
    while (off < h->len) {
        size_t nj = 0, nr = 0, start = off, records = 0;
        while (off < h->len && nj < FLUSH_CHUNK && nr < FLUSH_CHUNK) {
            const char *rec = h->buf + off;
            int32_t attempts, run;
            int64_t t1, t2;
            memcpy(&attempts, rec + 4, 4);
            memcpy(&t1, rec + 8, 8);
            memcpy(&t2, rec + 16, 8);
            memcpy(&run, rec + 24, 4);
            if (rec[2] == 'J') {
                history_rec_t *j = &jobs[nj++];
                j->job_id = field(rec, 0);
                j->type = field(rec, 1);
                j->queue = field(rec, 2);
                j->state = field(rec, 3);
                j->worker = field(rec, 4);
                j->error = field(rec, 5);
                j->attempts = attempts;
                j->started_us = t1;
                j->finished_us = t2;
                j->run = run;
            } else {
                retry_rec_t *r = &retries[nr++];
                r->job_id = field(rec, 0);
                r->kind = field(rec, 1);
                r->error = field(rec, 2);
                r->worker = field(rec, 3);
                r->attempt = attempts;
                r->at_us = t1;
                r->run = run;
            }
            off += size_of(rec);
            records++;
        }
        if (db_history_put(h->db, jobs, nj, retries, nr, err, errlen) != 0) {
            /* Keep what is not written yet for the next flush. */
            memmove(h->buf, h->buf + start, h->len - start);
            h->len -= start;
            return -1;
        }
        h->records -= records;
    }
    h->len = 0;
    return 0;
}
