/* log.h — structured log lines (JSON lines or logfmt) on stderr.
 *
 * Usage: log_info("job finished", LF_S("job_id", id), LF_I("attempt", 2));
 * Every line carries ts, level, msg and pid, then the given fields in order. */
#ifndef TICKQ_LOG_H
#define TICKQ_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;
typedef enum { LOG_FORMAT_JSON, LOG_FORMAT_LOGFMT } log_format_t;

typedef struct {
    const char *key; /* NULL ends a field list */
    char type;       /* 's' string, 'i' integer, 'f' double, 'b' boolean */
    union { const char *s; long long i; double d; } v;
} log_field_t;

#define LF_S(k, x) ((log_field_t){ (k), 's', { .s = (x) } })
#define LF_I(k, x) ((log_field_t){ (k), 'i', { .i = (long long)(x) } })
#define LF_F(k, x) ((log_field_t){ (k), 'f', { .d = (double)(x) } })
#define LF_B(k, x) ((log_field_t){ (k), 'b', { .i = (x) ? 1 : 0 } })
#define LF_END ((log_field_t){ 0, 0, { 0 } })

void log_configure(log_format_t format, log_level_t level);
/* Parse "json"/"logfmt" and "debug"/"info"/"warning"/"error"; 0 ok, -1 unknown. */
int log_parse_format(const char *s, log_format_t *out);
int log_parse_level(const char *s, log_level_t *out);

/* Buffered mode collects lines and writes them in whole-line chunks of at most
 * PIPE_BUF bytes (each write stays atomic when several processes share stderr).
 * Warnings and errors are always written at once. log_flush() empties it. */
void log_set_buffered(int on);
void log_flush(void);

/* Writes one line; the variadic part is log_field_t values ending with LF_END. */
void log_emit(log_level_t level, const char *msg, ...);

#define log_debug(...) log_emit(LOG_DEBUG, __VA_ARGS__, LF_END)
#define log_info(...)  log_emit(LOG_INFO, __VA_ARGS__, LF_END)
#define log_warn(...)  log_emit(LOG_WARN, __VA_ARGS__, LF_END)
#define log_error(...) log_emit(LOG_ERROR, __VA_ARGS__, LF_END)

#endif
