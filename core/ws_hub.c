/*
 * ws_hub.c — the WebSocket connections and the fan-out of samples.
 *
 * Threading: vitals_hub_adopt() and vitals_hub_broadcast() are called from
 * other threads; they only append to an inbox under a mutex and wake the
 * hub's thread through an eventfd.  Everything else — reading, parsing,
 * queueing, writing, pinging, closing — happens on the hub's own thread, so
 * a client is never touched by two threads and needs no lock.
 *
 * Memory: a broadcast is framed once into a reference-counted message that
 * every client's queue points at (ws_queue.c).  A queue over its byte budget
 * keeps only the newest sample; a client whose replies alone exceed four
 * budgets, or whose queue has not emptied for send_timeout seconds, is
 * disconnected.  The number of clients is capped: the HTTP layer reserves a
 * slot before it answers 101, and the slot is freed with the client.
 */
#include "ws_hub.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "ws_codec.h"
#include "ws_queue.h"

/* SO_SNDBUF of every client socket (the kernel doubles it): a few seconds
 * of samples even for large dashboards, a hello in a few writes. */
#define HUB_SNDBUF (64 * 1024)

typedef struct hub_client {
    int fd;
    vitals_hub_release_fn release;
    void *release_arg;
    char *peer;
    ws_reader reader;
    vitals_ws_queue queue;
    uint64_t skip_seq;     /* samples up to this one came with the hello */
    gboolean want_out;     /* EPOLLOUT is armed */
    gboolean close_sent, close_received, write_shut;
    gint64 close_deadline; /* when to give up on the peer's close reply */
    gint64 ping_sent_at;   /* 0 when no ping is outstanding */
    gint64 next_ping_at;   /* this client's own phase: pings are spread out */
    gint64 behind_since;   /* 0, or since when its queue has not emptied */
} hub_client;

typedef struct pending_adopt {
    int fd;
    vitals_hub_release_fn release;
    void *arg;
    char *extra;
    size_t extra_len;
    char *peer;
} pending_adopt;

struct vitals_hub {
    vitals_hub_callbacks cb;
    vitals_hub_options opt;
    int epfd, wakefd;
    GThread *thread;
    GMutex lock;           /* guards the three fields below */
    GQueue inbox;          /* vitals_ws_msg* to broadcast */
    GQueue adoptions;      /* pending_adopt* */
    gboolean stopping;
    GPtrArray *clients;    /* hub thread only */
    gint nclients;         /* atomic mirror of clients->len */
    gint slots;            /* atomic: reserved + pending + adopted clients */
    gint64 next_sweep;
    gint64 stop_deadline;
    /* The hello of the current tick, framed once and shared by every client
     * that connects before the next broadcast (hub thread only). */
    vitals_ws_msg *hello;
    uint64_t hello_seq;
};

/* ---- clients --------------------------------------------------------- */

static void client_destroy(vitals_hub *hub, hub_client *c, const char *why)
{
    epoll_ctl(hub->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    vitals_log(VITALS_LOG_INFO, c->peer, "websocket closed: %s%s", why,
               c->queue.dropped ? " (samples were dropped for a slow reader)" : "");
    vitals_ws_queue_clear(&c->queue);
    ws_reader_free(&c->reader);
    c->release(c->release_arg); /* the socket is the HTTP layer's to close */
    g_ptr_array_remove_fast(hub->clients, c);
    g_atomic_int_set(&hub->nclients, (gint)hub->clients->len);
    g_atomic_int_dec_and_test(&hub->slots);
    g_free(c->peer);
    g_free(c);
}

static void set_want_out(vitals_hub *hub, hub_client *c, gboolean on)
{
    if (c->want_out == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(hub->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = on;
}

/* Writes what the socket takes.  FALSE when the client was destroyed. */
static gboolean client_flush(vitals_hub *hub, hub_client *c)
{
    gboolean progress = FALSE;
    switch (vitals_ws_queue_send(&c->queue, c->fd, &progress)) {
    case VITALS_WS_SEND_ERROR:
        client_destroy(hub, c, g_strerror(errno));
        return FALSE;
    case VITALS_WS_SENT_SOME:
        /* The send_timeout clock runs until the queue empties once.  Not
         * "since the last byte": a peer that never reads still lets a few
         * bytes through now and then as its kernel compacts its buffers. */
        if (!c->behind_since)
            c->behind_since = g_get_monotonic_time();
        set_want_out(hub, c, TRUE);
        return TRUE;
    case VITALS_WS_SENT_ALL:
        break;
    }
    c->behind_since = 0;
    set_want_out(hub, c, FALSE);
    if (c->close_sent && !c->write_shut) {
        /* Our close frame is out: half-close so the peer sees the end. */
        shutdown(c->fd, SHUT_WR);
        c->write_shut = TRUE;
    }
    if (c->close_sent && c->close_received) {
        client_destroy(hub, c, "closed");
        return FALSE;
    }
    return TRUE;
}

/* Queues a reference to m.  FALSE when the client was destroyed. */
static gboolean client_queue(vitals_hub *hub, hub_client *c, vitals_ws_msg *m)
{
    if (c->close_sent)
        return TRUE; /* nothing follows a close frame */
    if (m->droppable && m->seq && m->seq <= c->skip_seq)
        return TRUE;
    if (vitals_ws_queue_push(&c->queue, m) == VITALS_WS_OVERFLOW) {
        client_destroy(hub, c, "not reading its replies");
        return FALSE;
    }
    return TRUE;
}

/* Queues a message built for this client alone (the reference is consumed). */
static gboolean client_send_own(vitals_hub *hub, hub_client *c, vitals_ws_msg *m)
{
    gboolean alive = client_queue(hub, c, m);
    vitals_ws_msg_unref(m);
    return alive;
}

static gboolean client_send_text(vitals_hub *hub, hub_client *c, const char *text, size_t len)
{
    return client_send_own(hub, c, vitals_ws_msg_new(WS_OP_TEXT, text, len, 0, FALSE));
}

/* Starts the closing handshake from our side. */
static gboolean client_close(vitals_hub *hub, hub_client *c, uint16_t code, const char *reason)
{
    if (c->close_sent)
        return TRUE;
    if (!client_send_own(hub, c, vitals_ws_msg_close(code, reason)))
        return FALSE;
    c->close_sent = TRUE;
    c->close_deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    return TRUE;
}

/* Answers one text message from the client. */
static gboolean client_on_text(vitals_hub *hub, hub_client *c, const uint8_t *data, size_t len)
{
    json_t *msg = json_loadb((const char *)data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    gboolean alive;
    if (type && strcmp(type, "ping") == 0) {
        static const char pong[] = "{\"type\":\"pong\"}";
        alive = client_send_text(hub, c, pong, sizeof pong - 1);
    } else if (type && strcmp(type, "request_metrics") == 0) {
        size_t n = 0;
        char *text = hub->cb.metrics(hub->cb.user, &n);
        alive = client_send_text(hub, c, text, n);
        free(text);
    } else {
        json_t *err = json_pack("{s:s, s:s}", "type", "error", "message",
                                msg ? "unknown message type; expected ping or request_metrics"
                                    : "not a JSON object");
        char *text = json_dumps(err, JSON_COMPACT);
        alive = client_send_text(hub, c, text, strlen(text));
        free(text);
        json_decref(err);
    }
    json_decref(msg);
    return alive;
}

/* Handles one decoded event.  FALSE when the client was destroyed. */
static gboolean client_on_event(vitals_hub *hub, hub_client *c, const ws_event *ev)
{
    switch (ev->type) {
    case WS_EV_TEXT:
        return client_on_text(hub, c, ev->data, ev->len);
    case WS_EV_BINARY:
        return client_close(hub, c, WS_CLOSE_UNSUPPORTED, "binary messages are not supported");
    case WS_EV_PING:
        return client_send_own(hub, c, vitals_ws_msg_new(WS_OP_PONG, ev->data, ev->len, 0, FALSE));
    case WS_EV_PONG:
        return TRUE;
    case WS_EV_CLOSE:
        c->close_received = TRUE;
        if (!c->close_sent) {
            /* Echo the peer's code, as RFC 6455 section 5.5.1 asks. */
            uint16_t code = ev->close_code == WS_CLOSE_NO_STATUS ? 0 : ev->close_code;
            if (!client_send_own(hub, c, vitals_ws_msg_close(code, NULL)))
                return FALSE;
            c->close_sent = TRUE;
        }
        return TRUE;
    case WS_EV_ERROR:
        vitals_log(VITALS_LOG_WARN, c->peer, "websocket protocol error: %s (closing with %u)",
                   ev->reason ? ev->reason : "?", ev->close_code);
        return client_close(hub, c, ev->close_code, ev->reason);
    default:
        return TRUE;
    }
}

/* Feeds bytes to the reader.  FALSE when the client was destroyed. */
static gboolean client_consume(vitals_hub *hub, hub_client *c, const uint8_t *buf, size_t len)
{
    c->ping_sent_at = 0; /* any traffic proves the peer is alive */
    while (len > 0 && !c->close_received && !c->reader.failed) {
        ws_event ev = {0};
        size_t used = ws_reader_feed(&c->reader, buf, len, &ev);
        buf += used;
        len -= used;
        if (ev.type != WS_EV_NONE && !client_on_event(hub, c, &ev))
            return FALSE;
        if (used == 0 && ev.type == WS_EV_NONE)
            break;
    }
    return TRUE;
}

static void client_readable(vitals_hub *hub, hub_client *c)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            if (!client_consume(hub, c, buf, (size_t)n))
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        client_destroy(hub, c, n == 0 ? "peer closed the connection" : g_strerror(errno));
        return;
    }
    client_flush(hub, c);
}

/*
 * The hello a client gets on arrival.  Encoding it (all descriptors, all
 * history) is by far the dearest thing the hub does, so it is encoded once
 * and shared until the next broadcast makes it stale: ten thousand clients
 * arriving together cost one encoding per tick, not one each.
 */
static vitals_ws_msg *current_hello(vitals_hub *hub, uint64_t *seq)
{
    if (!hub->hello) {
        size_t len = 0;
        char *text = hub->cb.hello(hub->cb.user, &len, &hub->hello_seq);
        hub->hello = vitals_ws_msg_new(WS_OP_TEXT, text, len, 0, FALSE);
        free(text);
    }
    *seq = hub->hello_seq;
    return hub->hello;
}

/* A broadcast (a sample, new descriptors) makes the shared hello stale. */
static void forget_hello(vitals_hub *hub)
{
    if (hub->hello)
        vitals_ws_msg_unref(hub->hello);
    hub->hello = NULL;
}

static void client_adopt(vitals_hub *hub, pending_adopt *a)
{
    hub_client *c = g_new0(hub_client, 1);
    c->fd = a->fd;
    c->release = a->release;
    c->release_arg = a->arg;
    c->peer = g_strdup_printf("ws %s", a->peer ? a->peer : "?");
    ws_reader_init(&c->reader, hub->opt.max_message);
    vitals_ws_queue_init(&c->queue, hub->opt.max_queue_bytes);
    int flags = fcntl(c->fd, F_GETFL);
    if (flags >= 0)
        fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
    /* The queue decides what a slow client may cost; the kernel's buffer
     * for it stays small and fixed, where autotuning would let it grow to
     * megabytes per client (and a stalled client would take that long to
     * be noticed). */
    int sndbuf = HUB_SNDBUF;
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    g_ptr_array_add(hub->clients, c);
    g_atomic_int_set(&hub->nclients, (gint)hub->clients->len);
    if (epoll_ctl(hub->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        client_destroy(hub, c, g_strerror(errno));
        return;
    }
    vitals_log(VITALS_LOG_DEBUG, c->peer, "websocket opened");
    /* Each client's first ping comes after half to all of an interval, so
     * clients that arrived together are not all pinged in one burst (ten
     * thousand pings at once overflow loopback's input queue). */
    c->next_ping_at = g_get_monotonic_time() +
                      (gint64)(hub->opt.ping_interval * G_USEC_PER_SEC * g_random_double_range(0.5, 1.0));

    gboolean alive = client_queue(hub, c, current_hello(hub, &c->skip_seq));
    if (alive && a->extra_len)
        alive = client_consume(hub, c, (const uint8_t *)a->extra, a->extra_len);
    if (alive)
        client_flush(hub, c);
}

static void pending_free(pending_adopt *a)
{
    g_free(a->extra);
    g_free(a->peer);
    g_free(a);
}

/* An arrival the hub will not serve because it is stopping: the client
 * still hears why (close 1001, as every client does on shutdown), then the
 * socket and its slot go back. */
static void pending_refuse(vitals_hub *hub, pending_adopt *a)
{
    uint8_t frame[WS_MAX_HEADER + 125];
    size_t len = ws_close_frame(frame, WS_CLOSE_GOING_AWAY, "server shutting down");
    ssize_t sent = send(a->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent; /* a socket that cannot take 24 bytes gets only the end */
    a->release(a->arg);
    g_atomic_int_dec_and_test(&hub->slots);
    pending_free(a);
}

/* ---- the loop -------------------------------------------------------- */

/* Takes what other threads left in the inbox.  Returns TRUE once stopping. */
static gboolean drain_inbox(vitals_hub *hub)
{
    GQueue adoptions = G_QUEUE_INIT, messages = G_QUEUE_INIT;
    g_mutex_lock(&hub->lock);
    adoptions = hub->adoptions;
    messages = hub->inbox;
    g_queue_init(&hub->adoptions);
    g_queue_init(&hub->inbox);
    gboolean stopping = hub->stopping;
    g_mutex_unlock(&hub->lock);

    /* Broadcasts first, so the clients already here keep their cadence
     * however many are arriving; arrivals then get a hello that holds
     * everything broadcast so far. */
    vitals_ws_msg *m;
    if (!g_queue_is_empty(&messages))
        forget_hello(hub);
    while ((m = g_queue_pop_head(&messages))) {
        /* Iterate backwards: a client may be removed (swap-with-last). */
        for (guint i = hub->clients->len; i-- > 0;) {
            hub_client *c = hub->clients->pdata[i];
            if (client_queue(hub, c, m))
                client_flush(hub, c);
        }
        vitals_ws_msg_unref(m);
    }
    pending_adopt *a;
    while ((a = g_queue_pop_head(&adoptions))) {
        if (stopping) {
            pending_refuse(hub, a);
        } else {
            client_adopt(hub, a);
            pending_free(a);
        }
    }
    return stopping;
}

/* How often the timeouts below are looked at; a sweep visits every client,
 * so it must not run on every wake-up of a busy loop. */
#define SWEEP_EVERY (G_USEC_PER_SEC / 4)

/* Pings, ping timeouts, stalled sockets and overdue closing handshakes. */
static void housekeeping(vitals_hub *hub, gint64 now)
{
    if (now < hub->next_sweep)
        return;
    hub->next_sweep = now + SWEEP_EVERY;
    gint64 ping_every = (gint64)(hub->opt.ping_interval * G_USEC_PER_SEC);
    gint64 send_timeout = (gint64)(hub->opt.send_timeout * G_USEC_PER_SEC);
    for (guint i = hub->clients->len; i-- > 0;) {
        hub_client *c = hub->clients->pdata[i];
        if (c->close_sent) {
            if (now >= c->close_deadline)
                client_destroy(hub, c, "no close reply");
            continue;
        }
        if (c->behind_since && now - c->behind_since >= send_timeout) {
            /* Its queue keeps only the newest sample, so it costs little;
             * but a client that cannot catch up for this long is not reading. */
            char *why = g_strdup_printf("not reading: its queue did not empty for %g s",
                                        hub->opt.send_timeout);
            client_destroy(hub, c, why);
            g_free(why);
            continue;
        }
        if (ping_every <= 0 || now < c->next_ping_at)
            continue;
        if (c->ping_sent_at) {
            client_destroy(hub, c, "no answer to ping");
            continue;
        }
        c->ping_sent_at = now;
        c->next_ping_at = now + ping_every;
        if (client_send_own(hub, c, vitals_ws_msg_new(WS_OP_PING, "vitals", 6, 0, FALSE)))
            client_flush(hub, c);
    }
}

static gpointer hub_thread(gpointer data)
{
    vitals_hub *hub = data;
    struct epoll_event events[256];
    gboolean closing_all = FALSE;
    for (;;) {
        int n = epoll_wait(hub->epfd, events, G_N_ELEMENTS(events), closing_all ? 20 : 1000);
        for (int i = 0; i < n; i++) {
            hub_client *c = events[i].data.ptr;
            if (!c) {
                uint64_t count;
                ssize_t r = read(hub->wakefd, &count, sizeof count);
                (void)r;
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                client_readable(hub, c); /* also flushes, or destroys */
            else if (events[i].events & EPOLLOUT)
                client_flush(hub, c);
        }
        gboolean stopping = drain_inbox(hub);
        gint64 now = g_get_monotonic_time();
        if (stopping && !closing_all) {
            closing_all = TRUE;
            for (guint i = hub->clients->len; i-- > 0;) {
                hub_client *c = hub->clients->pdata[i];
                if (client_close(hub, c, WS_CLOSE_GOING_AWAY, "server shutting down"))
                    client_flush(hub, c);
            }
        }
        if (closing_all && (hub->clients->len == 0 || now >= hub->stop_deadline))
            break;
        housekeeping(hub, now);
    }
    while (hub->clients->len)
        client_destroy(hub, hub->clients->pdata[hub->clients->len - 1], "server stopped");
    return NULL;
}

/* ---- public ---------------------------------------------------------- */

static void wake(vitals_hub *hub)
{
    uint64_t one = 1;
    ssize_t r = write(hub->wakefd, &one, sizeof one);
    (void)r; /* a full counter already means "wake up" */
}

vitals_hub *vitals_hub_new(const vitals_hub_callbacks *callbacks, const vitals_hub_options *options)
{
    vitals_hub *hub = g_new0(vitals_hub, 1);
    hub->cb = *callbacks;
    hub->opt = *options;
    if (!hub->opt.max_message)
        hub->opt.max_message = 64 * 1024;
    if (!hub->opt.max_queue_bytes)
        hub->opt.max_queue_bytes = 1024 * 1024;
    if (!hub->opt.max_clients)
        hub->opt.max_clients = 10000;
    if (!(hub->opt.send_timeout > 0))
        hub->opt.send_timeout = 30;
    hub->epfd = hub->wakefd = -1;
    g_mutex_init(&hub->lock);
    g_queue_init(&hub->inbox);
    g_queue_init(&hub->adoptions);
    hub->clients = g_ptr_array_new();
    return hub;
}

gboolean vitals_hub_start(vitals_hub *hub, GError **error)
{
    hub->epfd = epoll_create1(EPOLL_CLOEXEC);
    hub->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (hub->epfd < 0 || hub->wakefd < 0 || epoll_ctl(hub->epfd, EPOLL_CTL_ADD, hub->wakefd, &ev)) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "websocket hub: %s",
                    g_strerror(errno));
        return FALSE;
    }
    hub->thread = g_thread_try_new("vitals-hub", hub_thread, hub, error);
    return hub->thread != NULL;
}

void vitals_hub_adopt(vitals_hub *hub, int fd, vitals_hub_release_fn release, void *arg,
                      const char *extra, size_t extra_len, const char *peer)
{
    pending_adopt *a = g_new0(pending_adopt, 1);
    a->fd = fd;
    a->release = release;
    a->arg = arg;
    a->extra = extra_len ? g_memdup2(extra, extra_len) : NULL;
    a->extra_len = extra_len;
    a->peer = g_strdup(peer);
    g_mutex_lock(&hub->lock);
    g_queue_push_tail(&hub->adoptions, a);
    g_mutex_unlock(&hub->lock);
    wake(hub);
}

void vitals_hub_broadcast(vitals_hub *hub, const char *text, size_t len, uint64_t seq)
{
    vitals_ws_msg *m = vitals_ws_msg_new(WS_OP_TEXT, text, len, seq, seq != 0);
    g_mutex_lock(&hub->lock);
    g_queue_push_tail(&hub->inbox, m);
    g_mutex_unlock(&hub->lock);
    wake(hub);
}

guint vitals_hub_clients(vitals_hub *hub) { return (guint)g_atomic_int_get(&hub->nclients); }

gboolean vitals_hub_reserve(vitals_hub *hub)
{
    /* Compare-and-swap, so concurrent handshakes never pass the cap together. */
    for (;;) {
        gint n = g_atomic_int_get(&hub->slots);
        if (n >= (gint)hub->opt.max_clients)
            return FALSE;
        if (g_atomic_int_compare_and_exchange(&hub->slots, n, n + 1))
            return TRUE;
    }
}

void vitals_hub_unreserve(vitals_hub *hub) { g_atomic_int_dec_and_test(&hub->slots); }

void vitals_hub_stop(vitals_hub *hub, double grace)
{
    if (!hub->thread)
        return;
    g_mutex_lock(&hub->lock);
    hub->stopping = TRUE;
    hub->stop_deadline = g_get_monotonic_time() + (gint64)(grace * G_USEC_PER_SEC);
    g_mutex_unlock(&hub->lock);
    wake(hub);
    g_thread_join(hub->thread);
    hub->thread = NULL;
}

void vitals_hub_free(vitals_hub *hub)
{
    if (!hub)
        return;
    vitals_hub_stop(hub, 0);
    vitals_ws_msg *m;
    while ((m = g_queue_pop_head(&hub->inbox)))
        vitals_ws_msg_unref(m);
    pending_adopt *a;
    while ((a = g_queue_pop_head(&hub->adoptions)))
        pending_refuse(hub, a);
    forget_hello(hub);
    g_ptr_array_free(hub->clients, TRUE);
    if (hub->epfd >= 0)
        close(hub->epfd);
    if (hub->wakefd >= 0)
        close(hub->wakefd);
    g_mutex_clear(&hub->lock);
    g_free(hub);
}
