/*
 * ingest.c — the ingest sink and the StatsD UDP listener.
 *
 * Counting is batched: the UDP thread adds its tallies to the registry once
 * per recvmmsg batch, not once per record, so a flood of half a million
 * lines a second costs a few registry locks.  Rejections are logged at most
 * once per 10 s per sink, quoting the first bad line and how many followed.
 */
#include "ingest.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "statsd.h"

#define UDP_BATCH 32           /* datagrams per recvmmsg */
#define UDP_MAX_DATAGRAM 65536 /* larger ones arrive truncated: refused */
#define REJECT_LOG_EVERY (10 * G_USEC_PER_SEC)
#define QUOTE_MAX 120

struct vitals_ingest_sink {
    vitals_router *router;
    vitals_metric *records_metric, *rejected_metric;
    GMutex lock;            /* guards the totals and the log limiter */
    guint64 records, rejected;
    gint64 last_reject_log;
    guint64 rejects_unlogged;
};

vitals_ingest_sink *vitals_ingest_sink_new(vitals_router *router, vitals_registry *reg)
{
    vitals_ingest_sink *sink = g_new0(vitals_ingest_sink, 1);
    sink->router = router;
    g_mutex_init(&sink->lock);
    sink->records_metric = vitals_registry_add(reg, "vitals", &(vitals_metric_desc){
        .id = "vitals.ingest.records", .title = "Records received", .unit = "count",
        .kind = VITALS_COUNTER, .description = "StatsD lines and JSON records accepted",
        .chart = "vitals.ingest", .chart_title = "Ingest", .priority = 900}, NULL);
    sink->rejected_metric = vitals_registry_add(reg, "vitals", &(vitals_metric_desc){
        .id = "vitals.ingest.rejected", .title = "Rejected", .unit = "count",
        .kind = VITALS_COUNTER, .description = "Malformed lines and records refused",
        .chart = "vitals.ingest", .axis = VITALS_AXIS_RIGHT, .priority = 901}, NULL);
    vitals_metric_set(sink->records_metric, 0);
    vitals_metric_set(sink->rejected_metric, 0);
    return sink;
}

void vitals_ingest_sink_free(vitals_ingest_sink *sink)
{
    if (!sink)
        return;
    g_mutex_clear(&sink->lock);
    g_free(sink);
}

/* Adds a batch's tallies to the totals and the host's metrics. */
static void count(vitals_ingest_sink *sink, size_t records, size_t rejected)
{
    if (!records && !rejected)
        return;
    g_mutex_lock(&sink->lock);
    sink->records += records;
    sink->rejected += rejected;
    g_mutex_unlock(&sink->lock);
    if (records)
        vitals_metric_add(sink->records_metric, (double)records);
    if (rejected)
        vitals_metric_add(sink->rejected_metric, (double)rejected);
}

void vitals_ingest_totals(vitals_ingest_sink *sink, guint64 *records, guint64 *rejected)
{
    g_mutex_lock(&sink->lock);
    *records = sink->records;
    *rejected = sink->rejected;
    g_mutex_unlock(&sink->lock);
}

/* Logs a rejection unless one was logged in the last 10 s. */
static void log_reject(vitals_ingest_sink *sink, const char *source, const char *what,
                       size_t what_len, const char *why)
{
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&sink->lock);
    gboolean due = sink->last_reject_log == 0 || now - sink->last_reject_log >= REJECT_LOG_EVERY;
    guint64 unlogged = sink->rejects_unlogged;
    if (due) {
        sink->last_reject_log = now;
        sink->rejects_unlogged = 0;
    } else {
        sink->rejects_unlogged++;
    }
    g_mutex_unlock(&sink->lock);
    if (!due)
        return;
    /* Quote it safely: bounded, printable, so a log line stays one line. */
    GString *quote = g_string_new(NULL);
    for (size_t i = 0; i < what_len && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)what[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            g_string_append_c(quote, (char)c);
        else
            g_string_append_printf(quote, "\\x%02x", c);
    }
    if (what_len > QUOTE_MAX)
        g_string_append(quote, "…");
    char *more = unlogged ? g_strdup_printf(" (%" G_GUINT64_FORMAT " more refused since the last "
                                            "report)", unlogged) : g_strdup("");
    vitals_log(VITALS_LOG_WARN, "ingest", "refused from %s: %s: \"%s\"%s", source, why, quote->str, more);
    g_free(more);
    g_string_free(quote, TRUE);
}

/* What the parser's callbacks need.  The sender's name is written only
 * when a line is refused: formatting an address for every datagram would
 * cost more than parsing it. */
typedef struct parse_ctx {
    vitals_ingest_sink *sink;
    const char *source;          /* NULL until needed when `peer` is set */
    const struct sockaddr *peer;
    socklen_t peer_len;
    char name[INET6_ADDRSTRLEN + 16];
} parse_ctx;

static const char *source_of(parse_ctx *ctx)
{
    if (!ctx->source) {
        char peer[INET6_ADDRSTRLEN + 8];
        vitals_net_name(ctx->peer, ctx->peer_len, peer, sizeof peer);
        g_snprintf(ctx->name, sizeof ctx->name, "udp %s", peer);
        ctx->source = ctx->name;
    }
    return ctx->source;
}

static void on_statsd_record(void *user, const vitals_record *record)
{
    parse_ctx *ctx = user;
    vitals_router_dispatch(ctx->sink->router, record);
}

static void on_statsd_reject(void *user, const char *line, size_t len, const char *why)
{
    parse_ctx *ctx = user;
    log_reject(ctx->sink, source_of(ctx), line, len, why);
}

/* Parses without counting (the caller counts a whole batch at once).  Input
 * with no line at all (nothing, or only blank lines) is refused as one: a
 * sender whose datagrams arrive empty learns it from vitals.ingest.rejected
 * and the log, as for any other bad input. */
static statsd_result parse_statsd(parse_ctx *ctx, char *text, size_t len)
{
    statsd_result r = statsd_parse(text, len, on_statsd_record, on_statsd_reject, ctx);
    if (r.records == 0 && r.rejected == 0) {
        log_reject(ctx->sink, source_of(ctx), text ? text : "", text ? len : 0, "empty datagram");
        r.rejected = 1;
    }
    return r;
}

size_t vitals_ingest_statsd(vitals_ingest_sink *sink, char *text, size_t len, const char *source,
                            size_t *rejected)
{
    parse_ctx ctx = {.sink = sink, .source = source};
    statsd_result r = parse_statsd(&ctx, text, len);
    count(sink, r.records, r.rejected);
    if (rejected)
        *rejected = r.rejected;
    return r.records;
}

void vitals_ingest_record(vitals_ingest_sink *sink, const vitals_record *record)
{
    vitals_router_dispatch(sink->router, record);
    count(sink, 1, 0);
}

void vitals_ingest_reject(vitals_ingest_sink *sink, const char *source, const char *what,
                          size_t what_len, const char *why)
{
    log_reject(sink, source, what, what_len, why);
    count(sink, 0, 1);
}

/* ---- the UDP listener ----------------------------------------------- */

struct vitals_ingest_udp {
    vitals_ingest_sink *sink;
    int fd, stop_fd;
    uint16_t port;
    GThread *thread;
    char *buffers;            /* UDP_BATCH * UDP_MAX_DATAGRAM */
};

/* Receives batches until told to stop; never blocks the sampler. */
static gpointer udp_thread(gpointer data)
{
    vitals_ingest_udp *udp = data;
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iovs[UDP_BATCH];
    struct sockaddr_storage peers[UDP_BATCH];
    struct pollfd fds[2] = {{.fd = udp->fd, .events = POLLIN}, {.fd = udp->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < UDP_BATCH; i++) {
            /* One byte more than the largest datagram, so a full buffer
             * reliably means "truncated". */
            iovs[i].iov_base = udp->buffers + (size_t)i * UDP_MAX_DATAGRAM;
            iovs[i].iov_len = UDP_MAX_DATAGRAM - 1;
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &peers[i];
            msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
        }
        int n = recvmmsg(udp->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            continue;
        size_t records = 0, rejected = 0;
        for (int i = 0; i < n; i++) {
            parse_ctx ctx = {.sink = udp->sink, .peer = (struct sockaddr *)&peers[i],
                             .peer_len = msgs[i].msg_hdr.msg_namelen};
            char *buf = iovs[i].iov_base;
            size_t len = msgs[i].msg_len;
            if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len >= UDP_MAX_DATAGRAM - 1) {
                log_reject(udp->sink, source_of(&ctx), buf, len, "datagram larger than 64 KiB");
                rejected++;
                continue;
            }
            statsd_result r = parse_statsd(&ctx, buf, len);
            records += r.records;
            rejected += r.rejected;
        }
        count(udp->sink, records, rejected);
    }
    return NULL;
}

vitals_ingest_udp *vitals_ingest_udp_start(const char *listen, int port, vitals_ingest_sink *sink,
                                           GError **error)
{
    int gai_error = 0;
    int fd = vitals_net_bind(listen, port, SOCK_DGRAM, &gai_error);
    if (fd < 0) {
        if (gai_error)
            g_set_error(error, G_IO_CHANNEL_ERROR, G_IO_CHANNEL_ERROR_FAILED,
                        "cannot resolve ingest address '%s': %s", listen, gai_strerror(gai_error));
        else if (errno == EADDRINUSE)
            g_set_error(error, G_IO_CHANNEL_ERROR, G_IO_CHANNEL_ERROR_FAILED,
                        "UDP port %d on %s is already in use (set another in [ingest] port)", port, listen);
        else
            g_set_error(error, G_IO_CHANNEL_ERROR, G_IO_CHANNEL_ERROR_FAILED,
                        "cannot bind UDP %s port %d: %s", listen, port, g_strerror(errno));
        return NULL;
    }
    /* A deep receive queue absorbs bursts while the thread parses. */
    int rcvbuf = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

    vitals_ingest_udp *udp = g_new0(vitals_ingest_udp, 1);
    udp->sink = sink;
    udp->fd = fd;
    udp->stop_fd = eventfd(0, EFD_CLOEXEC);
    udp->port = vitals_net_port(fd);
    udp->buffers = g_malloc((size_t)UDP_BATCH * UDP_MAX_DATAGRAM);
    udp->thread = g_thread_try_new("vitals-ingest", udp_thread, udp, error);
    if (!udp->thread || udp->stop_fd < 0) {
        vitals_ingest_udp_stop(udp);
        return NULL;
    }
    vitals_log(VITALS_LOG_INFO, "ingest", "StatsD on udp %s:%u", listen, udp->port);
    return udp;
}

uint16_t vitals_ingest_udp_port(const vitals_ingest_udp *udp) { return udp ? udp->port : 0; }

void vitals_ingest_udp_stop(vitals_ingest_udp *udp)
{
    if (!udp)
        return;
    if (udp->thread) {
        uint64_t one = 1;
        ssize_t r = write(udp->stop_fd, &one, sizeof one);
        (void)r;
        g_thread_join(udp->thread);
    }
    if (udp->stop_fd >= 0)
        close(udp->stop_fd);
    close(udp->fd);
    g_free(udp->buffers);
    g_free(udp);
}
