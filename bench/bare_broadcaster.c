/*
 * bare_broadcaster.c — the calibration reference of DESIGN.md §5.
 *
 * The least a WebSocket fan-out can do: one thread, one epoll set; accept,
 * answer the upgrade (SHA-1 + base64 of the key, with GLib), and every
 * interval frame one ~250-byte `sample` (same JSON shape as vitals':
 * type, seq, ts, values) once and send() the same bytes to every client.
 * No queues, no pings, no history: a client whose socket does not take a
 * whole frame at once is dropped.  fanout measures it exactly as it
 * measures vitals, in the same run, so vitals' cost is stated against what
 * the kernel alone costs on this machine.
 *
 *   bare_broadcaster [--port P] [--interval S] [--bytes B] [--seconds MAX]
 *
 * Prints "bare listening on http://127.0.0.1:PORT/" once listening (port 0
 * picks a free one) and exits after --seconds (default 3600) so a
 * forgotten one does not linger.  Loopback only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define REQ_CAP 2048

typedef struct conn {
    int fd, open_index; /* index in open_fds, -1 while handshaking */
    size_t req_len;
    char req[REQ_CAP];
} conn;

static conn **by_fd;   /* indexed by descriptor */
static int *open_fds;      /* descriptors of upgraded clients */
static int nopen, epfd;

static void drop(int fd)
{
    conn *c = by_fd[fd];
    if (c->open_index >= 0) { /* swap the last one into its place */
        int last = open_fds[--nopen];
        open_fds[c->open_index] = last;
        by_fd[last]->open_index = c->open_index;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(c);
    by_fd[fd] = NULL;
}

/* Reads the upgrade request; answers 101 once it is whole. */
static void on_request(conn *c)
{
    ssize_t n = recv(c->fd, c->req + c->req_len, REQ_CAP - 1 - c->req_len, MSG_DONTWAIT);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop(c->fd);
        return;
    }
    c->req_len += (size_t)n;
    c->req[c->req_len] = '\0';
    if (!strstr(c->req, "\r\n\r\n")) {
        if (c->req_len == REQ_CAP - 1)
            drop(c->fd);
        return;
    }
    char *key = strcasestr(c->req, "\r\nSec-WebSocket-Key:");
    if (!key) {
        drop(c->fd);
        return;
    }
    key += 20;
    key += strspn(key, " \t");
    size_t key_len = strcspn(key, " \t\r\n");
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha1, (const guchar *)key, (gssize)key_len);
    g_checksum_update(sha1, (const guchar *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    g_checksum_get_digest(sha1, digest, &digest_len);
    g_checksum_free(sha1);
    gchar *accept = g_base64_encode(digest, digest_len);
    char resp[256];
    int len = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    g_free(accept);
    if (send(c->fd, resp, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
        drop(c->fd);
        return;
    }
    c->open_index = nopen;
    open_fds[nopen++] = c->fd;
}

/* Frames one sample of about `bytes` bytes of JSON into frame; its length. */
static size_t build_sample(uint8_t *frame, size_t bytes, unsigned long long seq)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char json[1024];
    int n = snprintf(json, sizeof json, "{\"type\":\"sample\",\"seq\":%llu,\"ts\":%lld.%06ld,\"values\":[",
                     seq, (long long)t.tv_sec, t.tv_nsec / 1000);
    /* Numbers like vitals' values, until the message has its size. */
    for (int i = 0; (size_t)n + 8 < bytes && (size_t)n < sizeof json - 16; i++)
        n += snprintf(json + n, sizeof json - (size_t)n, "%s%d.%d", i ? "," : "", 10 + i % 90, i % 10);
    n += snprintf(json + n, sizeof json - (size_t)n, "]}");
    size_t h = 2;
    frame[0] = 0x81;
    if (n < 126) {
        frame[1] = (uint8_t)n;
    } else {
        frame[1] = 126;
        frame[2] = (uint8_t)(n >> 8);
        frame[3] = (uint8_t)n;
        h = 4;
    }
    memcpy(frame + h, json, (size_t)n);
    return h + (size_t)n;
}

int main(int argc, char **argv)
{
    int port = 0;
    double interval = 1.0, seconds = 3600;
    size_t bytes = 250;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--interval"))
            interval = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--bytes"))
            bytes = (size_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
    }
    if (interval <= 0 || bytes < 64 || bytes > 900 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: %s [--port P] [--interval S] [--bytes 64..900] [--seconds MAX]\n", argv[0]);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* one descriptor per client */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t maxfd = rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
    by_fd = calloc(maxfd, sizeof *by_fd);
    open_fds = calloc(maxfd, sizeof *open_fds);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (!by_fd || !open_fds || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(lfd, 4096) != 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        perror("bare_broadcaster");
        return 1;
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {(time_t)interval, (long)((interval - (time_t)interval) * 1e9)}};
    its.it_value = its.it_interval;
    timerfd_settime(tfd, 0, &its, NULL);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = tfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
    printf("bare listening on http://127.0.0.1:%u/\n", ntohs(sa.sin_port));
    fflush(stdout);

    unsigned long long seq = 0, short_sends = 0;
    uint8_t frame[1024];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct epoll_event evs[256];
        int n = epoll_wait(epfd, evs, 256, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if ((size_t)cfd >= maxfd) {
                        close(cfd);
                        continue;
                    }
                    conn *c = calloc(1, sizeof *c);
                    c->fd = cfd;
                    c->open_index = -1;
                    by_fd[cfd] = c;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
            } else if (fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) < 0)
                    continue;
                size_t len = build_sample(frame, bytes, ++seq);
                for (int k = nopen; k-- > 0;) { /* backwards: drop() swaps the last in */
                    if (send(open_fds[k], frame, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len) {
                        short_sends++;
                        drop(open_fds[k]);
                    }
                }
            } else if (by_fd[fd]) {
                conn *c = by_fd[fd];
                if (c->open_index < 0) {
                    on_request(c);
                } else { /* an upgraded client: read and ignore what it sends */
                    char buf[4096];
                    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                        drop(fd);
                }
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - start.tv_sec) > seconds)
            break;
    }
    fprintf(stderr, "bare_broadcaster: %llu samples sent, %llu clients dropped on a short send\n",
            seq, short_sends);
    return 0;
}
