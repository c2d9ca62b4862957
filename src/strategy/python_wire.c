/* python_wire.c — the messages between a worker and its Python host. */
#include "strategy/python_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"

typedef struct {
    uint32_t type;
    uint32_t reserved;
    uint64_t len;
} header_t;

#define IOV_MAX_PARTS 16

int pywire_send(int sock, uint32_t type, const struct iovec *iov, int iovcnt, int pass_fd)
{
    if (iovcnt + 1 > IOV_MAX_PARTS) {
        errno = EINVAL;
        return -1;
    }
    header_t h = { type, 0, 0 };
    struct iovec parts[IOV_MAX_PARTS];
    parts[0].iov_base = &h;
    parts[0].iov_len = sizeof h;
    for (int i = 0; i < iovcnt; i++) {
        parts[i + 1] = iov[i];
        h.len += iov[i].iov_len;
    }
    int n = iovcnt + 1, at = 0, first = 1;
    while (at < n) {
        ssize_t w = fdio_send_with_fd(sock, parts + at, n - at, first ? pass_fd : -1);
        if (w < 0)
            return -1;
        first = 0;
        size_t done = (size_t)w;
        while (at < n && done >= parts[at].iov_len)
            done -= parts[at++].iov_len;
        if (at < n) {
            parts[at].iov_base = (char *)parts[at].iov_base + done;
            parts[at].iov_len -= done;
        }
    }
    return 0;
}

/* Waits until sock is readable or the deadline passes. */
static int wait_readable(int sock, int64_t deadline_ms)
{
    for (;;) {
        int timeout = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - clock_mono_ms();
            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            timeout = left > 1000 ? 1000 : (int)left;
        }
        struct pollfd p = { sock, POLLIN, 0 };
        int r = poll(&p, 1, timeout);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Reads exactly len bytes (the first read may carry a descriptor). */
static int read_exact(int sock, void *buf, size_t len, int *fd, int64_t deadline_ms)
{
    size_t got = 0;
    while (got < len) {
        if (wait_readable(sock, deadline_ms) != 0)
            return -1;
        ssize_t r = fdio_recv_with_fd(sock, (char *)buf + got, len - got, 0, fd);
        if (r < 0) {
            if (errno == EAGAIN)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int pywire_recv(int sock, uint32_t *type, char **payload, uint64_t *len, int *fd, int64_t deadline_ms)
{
    int passed = -1;
    header_t h;
    *payload = NULL;
    *len = 0;
    if (fd != NULL)
        *fd = -1;
    if (read_exact(sock, &h, sizeof h, &passed, deadline_ms) != 0)
        goto fail;
    if (h.len > PYWIRE_PAYLOAD_MAX) {
        errno = EPROTO;
        goto fail;
    }
    char *p = malloc((size_t)h.len + 1);
    if (p == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    if (h.len > 0 && read_exact(sock, p, (size_t)h.len, &passed, deadline_ms) != 0) {
        free(p);
        goto fail;
    }
    p[h.len] = '\0';
    *type = h.type;
    *payload = p;
    *len = h.len;
    if (fd != NULL)
        *fd = passed;
    else if (passed >= 0)
        close(passed);
    return 0;
fail:
    if (passed >= 0) {
        int saved = errno;
        close(passed);
        errno = saved;
    }
    return -1;
}

int pywire_peek(int sock, uint32_t *type, int64_t deadline_ms)
{
    header_t h;
    for (;;) {
        if (wait_readable(sock, deadline_ms) != 0)
            return -1;
        ssize_t r = recv(sock, &h, sizeof h, MSG_PEEK | MSG_WAITALL);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        if ((size_t)r == sizeof h) {
            *type = h.type;
            return 0;
        }
    }
}
