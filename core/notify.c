/*
 * notify.c — "READY=1" / "STOPPING=1" to $NOTIFY_SOCKET (sd_notify(3)).
 *
 * One datagram per call on a fresh close-on-exec socket: the host notifies
 * twice in its life, so there is nothing to keep open.  An abstract socket
 * name ('@' in the variable) becomes a leading NUL byte in sun_path and the
 * address length covers exactly the name, as systemd expects.  Other forms
 * systemd may use in the future (such as "vsock:") are refused with
 * EAFNOSUPPORT rather than guessed at.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* See notify.h. */
int vitals_notify(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !*name)
        return 0;
    if (!state) {
        errno = EINVAL;
        return -1;
    }
    if (name[0] != '/' && name[0] != '@') {
        errno = EAFNOSUPPORT;
        return -1;
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t len = strlen(name);
    if (name[0] == '@' && len < 2) { /* "@" alone names nothing */
        errno = EINVAL;
        return -1;
    }
    /* A path needs room for its NUL; an abstract name is counted exactly. */
    if (len > sizeof addr.sun_path - (name[0] == '/' ? 1 : 0)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(addr.sun_path, name, len);
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    size_t n = strlen(state);
    ssize_t sent;
    do
        sent = sendto(fd, state, n, MSG_NOSIGNAL, (const struct sockaddr *)&addr, addr_len);
    while (sent < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (sent < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)sent != n) {
        errno = EMSGSIZE;
        return -1;
    }
    return 1;
}

/* Sends `state` and logs a failure as a warning naming the socket. */
static void notify_or_warn(const char *state)
{
    if (vitals_notify(state) < 0) {
        int saved = errno;
        vitals_log(VITALS_LOG_WARN, "host", "cannot send %s to NOTIFY_SOCKET %s: %s", state,
                   getenv("NOTIFY_SOCKET"), strerror(saved));
    }
}

/* See notify.h. */
void vitals_notify_ready(void)
{
    notify_or_warn("READY=1");
}

/* See notify.h. */
void vitals_notify_stopping(void)
{
    notify_or_warn("STOPPING=1");
}
