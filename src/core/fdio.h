/* fdio.h — descriptor I/O the processes share: writing all of a buffer,
 * and a message on a unix socket that carries one descriptor along
 * (SCM_RIGHTS). */
#ifndef TICKQ_FDIO_H
#define TICKQ_FDIO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Writes all len bytes (retrying short writes and EINTR). 0, or -1 with
 * errno when the descriptor fails. */
int fdio_write_all(int fd, const void *buf, size_t len);

/* One sendmsg of iov (iovcnt parts) with pass_fd attached (< 0: none).
 * Returns the bytes sent (possibly fewer than all), or -1 with errno. */
ssize_t fdio_send_with_fd(int sock, const struct iovec *iov, int iovcnt, int pass_fd);

/* One recvmsg into buf (at most len bytes, `flags` as recvmsg's); a
 * descriptor that came with it is stored in *fd when *fd < 0 (fd may be
 * NULL), else closed. Returns the bytes received (0 at the end), or -1
 * with errno. */
ssize_t fdio_recv_with_fd(int sock, void *buf, size_t len, int flags, int *fd);

#endif
