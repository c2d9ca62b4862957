/* handler_wire.h — the messages between tickq and a handler process: one
 * JSON object per line, its kind in "msg" (docs/handlers.md, "The wire
 * format").
 *
 * Decoding is strict: a key the kind does not have, a missing or mistyped
 * field is an error naming it, never skipped, so that a handler that
 * misunderstands the protocol is stopped at its first wrong message. What
 * JSON allows and tickq's reader does not (a NUL, an integer beyond 64
 * bits, a key given twice) is not a misunderstanding of the protocol when
 * it is inside a sound message: such a line is read a second time, so that
 * only the job it names fails (handler_wire_message). */
#ifndef TICKQ_HANDLER_WIRE_H
#define TICKQ_HANDLER_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "handlers/handler_schema.h"

#define HANDLER_PROTOCOL 1
#define HANDLER_MAX_JOBS_LIMIT 1000
/* The bytes of a job's error kept, its terminating NUL included (docs/handlers.md). */
#define HANDLER_ERROR_MAX 1024

/* The announcement, the first message of a handler. */
typedef struct {
    json_t *types;               /* array of strings (owned reference) */
    int max_jobs;
    handler_schema_t *schema;    /* the announced argument schemas; NULL when none */
} handler_hello_t;

typedef enum { HANDLER_MSG_PROGRESS, HANDLER_MSG_RESULT, HANDLER_MSG_ERROR } handler_msg_kind_t;

/* A message about a job. */
typedef struct {
    handler_msg_kind_t kind;
    char id[JOB_ID_MAX + 1];
    double fraction;             /* progress */
    char message[512];           /* progress ("" when none) */
    json_t *data;                /* result (owned reference) */
    int retry;                   /* error */
    char *error;                 /* error text (malloc'd) */
    int unreadable;              /* refused: a result tickq cannot read (kind and id set) */
} handler_msg_t;

/* A job request for the handler. */
typedef struct {
    const char *id;
    const char *type;
    const char *queue;
    const json_t *args;
    int attempt;
    int max_retries;
    int64_t timeout_ms;
    int64_t deadline_ms;         /* wall clock, Unix epoch ms */
} handler_request_t;

/* Decodes the announcement. 0, or -1 with err. */
int handler_wire_hello(const char *line, size_t len, handler_hello_t *out, char *err, size_t errlen);
void handler_hello_clear(handler_hello_t *h);

/* Decodes a job's message. 0, or -1 with err. A line that is JSON but
 * holds what tickq's reader refuses (a NUL in text, an integer beyond 64
 * bits, a key given twice in an object) is read again leniently: a
 * progress or an error whose own keys are sound is taken, each NUL of its
 * text as U+FFFD; a result is refused with out->unreadable set and its
 * kind and id filled, so that its job alone can fail (err says why). */
int handler_wire_message(const char *line, size_t len, handler_msg_t *out, char *err, size_t errlen);
void handler_msg_clear(handler_msg_t *m);

/* The request line for a job, '\n' included (malloc'd), or NULL out of memory. */
char *handler_wire_request(const handler_request_t *r, size_t *len);
/* The cancel line for a job; reason is "timeout" or "cancel". */
char *handler_wire_cancel(const char *id, const char *reason, size_t *len);

#endif
