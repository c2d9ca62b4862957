/* python_wire.h — the messages between a worker and its Python host
 * (python_host.h) over their socket: a fixed header, a payload, and at most
 * one descriptor passed along (SCM_RIGHTS).
 *
 *   host -> worker  READY    "+" and the versions ("Python 3.11.2, numpy ..."),
 *                            or why Python cannot run here
 *   worker -> host  BARS     the bars (python_bars_* layout, python_frame.h)
 *   worker -> host  WINDOW   lo and hi of each series (2 x nseries uint64)
 *   worker -> host  EVAL     pywire_eval_t, with a memfd holding
 *                            "entry\0code" that only the evaluation child reads
 *   host -> worker  OUTCOME  pywire_outcome_t, then the result, then the output
 *
 * A worker and a host of different builds (python_host.h) meet only over
 * READY, which tells the worker so: the header and READY stay as they are
 * from one build to the next, whatever else changes. */
#ifndef TICKQ_PYTHON_WIRE_H
#define TICKQ_PYTHON_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define PYWIRE_READY 1
#define PYWIRE_BARS 2
#define PYWIRE_WINDOW 3
#define PYWIRE_EVAL 4
#define PYWIRE_OUTCOME 5

#define PYWIRE_PAYLOAD_MAX ((uint64_t)4 << 30)

#define PYWIRE_MODE_INSTANCES 0
#define PYWIRE_MODE_POSITIONS 1

typedef struct {
    uint32_t mode;               /* PYWIRE_MODE_* */
    uint32_t reserved;
    int64_t time_limit_ms;
    uint64_t memory_bytes;
} pywire_eval_t;

typedef struct {
    int32_t exit_code, term_signal, timed_out;
    int32_t result_truncated, output_truncated, setup_failed;
    int64_t elapsed_ms;
    uint64_t result_len, output_len;
    char violation[64];
} pywire_outcome_t;

/* Sends one message: the header and the payload gathered from iov, with
 * pass_fd (>= 0) attached. 0, or -1 with errno. */
int pywire_send(int sock, uint32_t type, const struct iovec *iov, int iovcnt, int pass_fd);

/* Receives one message before deadline_ms (clock_mono_ms; < 0: no
 * deadline): its type, its payload (malloc'd, NUL-terminated, *len bytes)
 * and the descriptor passed with it (*fd, -1 if none; may be NULL when
 * none is expected: one that comes anyway is closed). 0; -1 with errno
 * (ETIMEDOUT past the deadline, EPIPE at the end of the stream, EPROTO for
 * a malformed message). */
int pywire_recv(int sock, uint32_t *type, char **payload, uint64_t *len, int *fd, int64_t deadline_ms);

/* The type of the next message, left unread (its header whole). 0, or -1
 * with errno as pywire_recv's. */
int pywire_peek(int sock, uint32_t *type, int64_t deadline_ms);

#endif
