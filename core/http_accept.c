/*
 * http_accept.c — the host's own accept loop for plain HTTP: WebSocket
 * handshakes are answered here, every other connection goes to
 * libmicrohttpd.
 *
 * Why it exists: a connection libmicrohttpd upgrades keeps its memory pool
 * (16 KiB) for as long as the WebSocket lives — 86 % of the host's heap at
 * 10,000 clients (docs/benchmarks.md).  So the host accepts connections
 * itself and peeks at their first bytes without consuming them.  A
 * `GET /ws` never reaches libmicrohttpd: its head is read and checked here
 * (the same gate, verdict and answers as libmicrohttpd's path), the 101 is
 * written, and the socket goes to the hub, which then holds only its own
 * small client.  Any other request is handed to libmicrohttpd with
 * MHD_add_connection(), its bytes still unread in the socket.
 *
 * One thread and one epoll set: the listening socket, a wake-up eventfd,
 * and the connections not yet handed on.  Those are edge-triggered, so
 * bytes that were only peeked at do not wake the loop again until more
 * arrive.  Each has http_timeout seconds from its accept to show its
 * request head; a refused handshake gets its answer, a half-close, and a
 * moment to read it (closing with its bytes unread would reset the
 * connection and could lose the answer).
 */
#include "http_private.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "http_head.h"
#include "log.h"
#include "net.h"

/* Connections at once between accept and hand-off; more go straight to
 * libmicrohttpd (which has its own limit), so a crowd of clients that
 * connect and say nothing cannot stop the host from accepting. */
#define PENDING_MAX 1024
/* How long a refused client has to read its answer. */
#define LINGER_US (2 * G_USEC_PER_SEC)
/* How long accepting pauses when the host is out of descriptors. */
#define ACCEPT_PAUSE_US (G_USEC_PER_SEC / 4)

typedef enum {
    CONN_PEEK,  /* waiting for the bytes that tell who answers */
    CONN_HEAD,  /* a handshake: reading its head */
    CONN_LINGER /* refused: waiting for the client to close after the answer */
} conn_state;

typedef struct pending {
    GList link; /* in acceptor->pending; data points back here */
    int fd;
    conn_state state;
    gint64 deadline;
    GByteArray *partial; /* head bytes read so far, only when it comes in pieces */
    struct sockaddr_storage addr;
    socklen_t addr_len;
} pending;

struct vitals_http_acceptor {
    vitals_http *http;
    int listen_fd, epfd, wakefd;
    gint64 timeout;         /* http_timeout, in microseconds */
    gboolean listening;     /* the listening socket is in the epoll set */
    gint64 resume_at;       /* when to listen again after running out of descriptors */
    GQueue pending;         /* of pending, oldest first */
    GThread *thread;
    gint stopping;          /* atomic */
    char buf[VITALS_HTTP_HEAD_MAX]; /* the head being read (loop thread only) */
    vitals_http_head head;          /* and parsed */
};

/* Tags of the two descriptors that are not connections. */
static char listen_tag, wake_tag;

/* ---- connections ----------------------------------------------------- */

/* Forgets c; closes its socket unless it was handed on. */
static void pending_drop(vitals_http_acceptor *a, pending *c, gboolean close_fd)
{
    epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    g_queue_unlink(&a->pending, &c->link);
    if (close_fd)
        close(c->fd);
    if (c->partial)
        g_byte_array_free(c->partial, TRUE);
    g_free(c);
}

static void to_mhd(vitals_http_acceptor *a, int fd, const struct sockaddr_storage *addr,
                   socklen_t addr_len)
{
    /* On failure libmicrohttpd closes the socket and logs why. */
    MHD_add_connection(a->http->daemon, fd, (const struct sockaddr *)addr, addr_len);
}

static void close_socket(void *arg)
{
    close(GPOINTER_TO_INT(arg));
}

/* Writes all of data, which a fresh socket's empty buffer takes at once. */
static gboolean send_all(int fd, const char *data, size_t len)
{
    ssize_t n;
    do
        n = send(fd, data, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len;
}

/* What libmicrohttpd checks before any handler runs (a Host header), then
 * the token and the query as http.c's gate checks them on every route,
 * then the handshake itself.  Fills *out like vitals_http_ws_decide. */
static void gate(vitals_http *http, const vitals_http_head *head, const char *peer,
                 vitals_http_ws_answer *out)
{
    memset(out, 0, sizeof *out);
    char *token = NULL;
    const char *why = vitals_http_query_param(head->target, "token", &token);
    const char *error = NULL;
    if (!vitals_http_head_field(head, "Host")) {
        error = "the request has no Host header"; /* RFC 9112 3.2 */
    } else if (http->opt.auth_token &&
               !vitals_auth_check(http->opt.auth_token, vitals_http_head_field(head, "Authorization"),
                                  token)) {
        out->status = MHD_HTTP_UNAUTHORIZED;
        out->body = json_pack("{s:s}", "error", VITALS_HTTP_TOKEN_NEEDED);
        out->header = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        out->value = VITALS_HTTP_TOKEN_CHALLENGE;
    } else if (why) {
        char *message = g_strdup_printf("query parameter 'token' %s", why);
        out->status = MHD_HTTP_BAD_REQUEST;
        out->body = json_pack("{s:s}", "error", message);
        g_free(message);
    } else if (strcmp(head->version, "HTTP/1.1") != 0) {
        error = "expected a WebSocket upgrade request"; /* RFC 6455 4.1: HTTP/1.1 */
    } else {
        vitals_ws_request req = {.upgrade = vitals_http_head_field(head, "Upgrade"),
                                 .connection = vitals_http_head_field(head, "Connection"),
                                 .version = vitals_http_head_field(head, "Sec-WebSocket-Version"),
                                 .key = vitals_http_head_field(head, "Sec-WebSocket-Key"),
                                 .origin = vitals_http_head_field(head, "Origin"),
                                 .host = vitals_http_head_field(head, "Host")};
        vitals_http_ws_decide(http, &req, peer, out);
    }
    if (error) {
        out->status = MHD_HTTP_BAD_REQUEST;
        out->body = json_pack("{s:s}", "error", error);
    }
    g_free(token);
}

static void linger(vitals_http_acceptor *a, pending *c);

/* Answers a complete head (or one refused for its size or form): the 101
 * and the hand-off to the hub, or the refusal. */
static void answer(vitals_http_acceptor *a, pending *c, vitals_http_head_result r, size_t have)
{
    char peer[INET6_ADDRSTRLEN + 8];
    vitals_net_name((const struct sockaddr *)&c->addr, c->addr_len, peer, sizeof peer);
    vitals_http_ws_answer ans = {0};
    if (r == VITALS_HTTP_HEAD_DONE) {
        gate(a->http, &a->head, peer, &ans);
    } else {
        G_STATIC_ASSERT(VITALS_HTTP_HEAD_MAX == 16 * 1024); /* the words below */
        static const struct { unsigned status; const char *error; } refusals[] = {
            [VITALS_HTTP_HEAD_BAD] = {MHD_HTTP_BAD_REQUEST, "malformed request"},
            [VITALS_HTTP_HEAD_LONG_URI] = {MHD_HTTP_URI_TOO_LONG, "the request line is over 16 KiB"},
            [VITALS_HTTP_HEAD_TOO_LARGE] = {MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                                            "the request headers are over 16 KiB"},
        };
        ans.status = refusals[r].status;
        ans.body = json_pack("{s:s}", "error", refusals[r].error);
    }
    if (ans.status == MHD_HTTP_SWITCHING_PROTOCOLS) {
        char date[64], reply[256];
        vitals_http_date(date, sizeof date);
        int len = g_snprintf(reply, sizeof reply, "HTTP/1.1 101 Switching Protocols\r\nDate: %s\r\n"
                             "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                             "Sec-WebSocket-Accept: %s\r\n\r\n", date, ans.accept);
        if (!send_all(c->fd, reply, (size_t)len)) {
            vitals_hub_unreserve(a->http->opt.hub);
            pending_drop(a, c, TRUE);
            return;
        }
        /* The socket and its slot are the hub's now, with the bytes read past
         * the head (a first frame sent without waiting for the 101). */
        int fd = c->fd;
        pending_drop(a, c, FALSE);
        vitals_hub_adopt(a->http->opt.hub, fd, close_socket, GINT_TO_POINTER(fd),
                         a->buf + a->head.len, have - a->head.len, peer);
        return;
    }
    size_t len = 0;
    char *bytes = vitals_http_reply_bytes(ans.status, ans.body, ans.header, ans.value, &len);
    send_all(c->fd, bytes, len);
    g_free(bytes);
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->deadline = g_get_monotonic_time() + LINGER_US;
    linger(a, c);
}

/* Reads the head of a handshake, as far as the socket has it. */
static void read_head(vitals_http_acceptor *a, pending *c)
{
    size_t have = 0;
    if (c->partial) {
        have = c->partial->len;
        memcpy(a->buf, c->partial->data, have);
        g_byte_array_set_size(c->partial, 0);
    }
    vitals_http_head_result r = VITALS_HTTP_HEAD_MORE;
    /* MORE means the bound is not reached, so buf has room for more. */
    while (r == VITALS_HTTP_HEAD_MORE) {
        ssize_t n = recv(c->fd, a->buf + have, sizeof a->buf - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The rest comes later: keep what came (rare; most heads come whole). */
            if (have) {
                if (!c->partial)
                    c->partial = g_byte_array_new();
                g_byte_array_append(c->partial, (const guint8 *)a->buf, (guint)have);
            }
            return;
        }
        if (n <= 0) { /* gone before the head was complete */
            pending_drop(a, c, TRUE);
            return;
        }
        have += (size_t)n;
        r = vitals_http_head_parse(a->buf, have, &a->head);
    }
    answer(a, c, r, have);
}

/* Tells from the first bytes who answers the connection. */
static void peek(vitals_http_acceptor *a, pending *c, uint32_t events)
{
    char buf[VITALS_HTTP_PEEK_LEN];
    ssize_t n;
    do
        n = recv(c->fd, buf, sizeof buf, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    gboolean nothing_yet = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (n == 0 || (n < 0 && !nothing_yet)) {
        pending_drop(a, c, TRUE); /* gone before it asked anything */
        return;
    }
    switch (n > 0 ? vitals_http_peek_kind(buf, (size_t)n) : VITALS_HTTP_PEEK_MORE) {
    case VITALS_HTTP_PEEK_OTHER: {
        int fd = c->fd;
        struct sockaddr_storage addr = c->addr;
        socklen_t addr_len = c->addr_len;
        pending_drop(a, c, FALSE);
        to_mhd(a, fd, &addr, addr_len);
        break;
    }
    case VITALS_HTTP_PEEK_WS:
        c->state = CONN_HEAD;
        read_head(a, c);
        break;
    case VITALS_HTTP_PEEK_MORE:
        /* Half-closed before it said enough to be answered: no more is coming. */
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            pending_drop(a, c, TRUE);
        break;
    }
}

/* Reads and drops what a refused client still sends, until it closes. */
static void linger(vitals_http_acceptor *a, pending *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, a->buf, sizeof a->buf, 0);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        pending_drop(a, c, TRUE);
        return;
    }
}

static void set_listening(vitals_http_acceptor *a, gboolean on)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    if (a->listening != on && epoll_ctl(a->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, a->listen_fd, &ev) == 0)
        a->listening = on;
}

static void accept_all(vitals_http_acceptor *a)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept4(a->listen_fd, (struct sockaddr *)&addr, &addr_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* Out of descriptors or memory: the socket would stay readable and
             * spin the loop.  The kernel keeps the backlog meanwhile. */
            vitals_log(VITALS_LOG_WARN, "http", "cannot accept a connection: %s (pausing %d ms; "
                       "see the open-file limit)", g_strerror(errno), (int)(ACCEPT_PAUSE_US / 1000));
            set_listening(a, FALSE);
            a->resume_at = g_get_monotonic_time() + ACCEPT_PAUSE_US;
            return;
        }
        if (a->pending.length >= PENDING_MAX) {
            to_mhd(a, fd, &addr, addr_len);
            continue;
        }
        pending *c = g_new0(pending, 1);
        c->link.data = c;
        c->fd = fd;
        c->state = CONN_PEEK;
        c->deadline = g_get_monotonic_time() + a->timeout;
        c->addr = addr;
        c->addr_len = addr_len;
        /* Edge-triggered: an event per arrival, not per byte left unread. */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            g_free(c);
            continue;
        }
        g_queue_push_tail_link(&a->pending, &c->link);
    }
}

/* Closes connections past their deadline; returns the next deadline of
 * any kind (0: none, wait for events alone). */
static gint64 sweep(vitals_http_acceptor *a, gint64 now)
{
    gint64 next = 0;
    for (GList *l = a->pending.head; l;) {
        pending *c = l->data;
        l = l->next;
        if (now >= c->deadline)
            pending_drop(a, c, TRUE); /* no request head in time, or a refused client lingering */
        else if (!next || c->deadline < next)
            next = c->deadline;
    }
    if (!a->listening) {
        if (now >= a->resume_at)
            set_listening(a, TRUE);
        else if (!next || a->resume_at < next)
            next = a->resume_at;
    }
    return next;
}

static gpointer accept_thread(gpointer data)
{
    vitals_http_acceptor *a = data;
    struct epoll_event events[64];
    gint64 next = 0;
    while (!g_atomic_int_get(&a->stopping)) {
        int timeout = -1;
        if (next) {
            gint64 wait = next - g_get_monotonic_time();
            timeout = wait <= 0 ? 0 : (int)(wait / 1000) + 1;
        }
        int n = epoll_wait(a->epfd, events, G_N_ELEMENTS(events), timeout);
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &wake_tag)
                continue; /* the loop condition says why */
            if (tag == &listen_tag) {
                accept_all(a);
                continue;
            }
            pending *c = tag;
            if (c->state == CONN_PEEK)
                peek(a, c, events[i].events);
            else if (c->state == CONN_HEAD)
                read_head(a, c);
            else
                linger(a, c);
        }
        next = sweep(a, g_get_monotonic_time());
    }
    while (a->pending.head)
        pending_drop(a, a->pending.head->data, TRUE);
    return NULL;
}

/* ---- start and stop -------------------------------------------------- */

static void acceptor_free(vitals_http_acceptor *a)
{
    if (a->epfd >= 0)
        close(a->epfd);
    if (a->wakefd >= 0)
        close(a->wakefd);
    g_free(a);
}

vitals_http_acceptor *vitals_http_accept_start(vitals_http *http, int listen_fd, GError **error)
{
    vitals_http_acceptor *a = g_new0(vitals_http_acceptor, 1);
    a->http = http;
    a->listen_fd = listen_fd;
    unsigned timeout = http->opt.http_timeout > 0 ? http->opt.http_timeout : 30u;
    a->timeout = (gint64)timeout * G_USEC_PER_SEC;
    g_queue_init(&a->pending);
    a->epfd = epoll_create1(EPOLL_CLOEXEC);
    a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_tag};
    /* accept4 until EAGAIN: the listening socket must not block. */
    int flags = fcntl(listen_fd, F_GETFL);
    if (a->epfd < 0 || a->wakefd < 0 || epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->wakefd, &ev) != 0 ||
        flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_START, "cannot start accepting "
                    "connections on %s: %s", http->url, g_strerror(errno));
        acceptor_free(a);
        return NULL;
    }
    set_listening(a, TRUE);
    a->thread = g_thread_try_new("vitals-accept", accept_thread, a, error);
    if (!a->thread) {
        acceptor_free(a);
        return NULL;
    }
    return a;
}

void vitals_http_accept_stop(vitals_http_acceptor *a)
{
    if (!a)
        return;
    g_atomic_int_set(&a->stopping, 1);
    uint64_t one = 1;
    ssize_t r = write(a->wakefd, &one, sizeof one);
    (void)r; /* a full counter already means "wake up" */
    g_thread_join(a->thread);
    close(a->listen_fd);
    acceptor_free(a);
}
