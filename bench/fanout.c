/*
 * fanout.c — the WebSocket fan-out load generator (DESIGN.md §5, issue 7).
 *
 * Opens N WebSocket clients to a host on 127.0.0.1, waits until they are
 * all open, lets a few ticks pass, then for T ticks records, for every
 * `sample` message, when each client received it:
 *
 *   spread    per tick, last client's receipt - first client's receipt
 *             (p50/p99/max over the ticks);
 *   latency   receipt time - the sample's own "ts" (both CLOCK_REALTIME of
 *             this machine), over every (client, tick) pair;
 *   missed    messages of the measured ticks that some client had not got
 *             2.5 intervals after the window closed,
 *             and seq gaps seen by any client during the whole run;
 *   host      CPU % of one core of the watched PID (the sum over its
 *             threads of /proc/PID/task/TID/schedstat, in ns; utime+stime
 *             of /proc/PID/stat count 10 ms ticks, too coarse) between
 *             the first receipt of the first and of the one-past-last
 *             measured tick, and its VmRSS / VmHWM at the end; per
 *             thread also the time it waited, runnable, for a CPU;
 *   machine   loopback input-backlog drops and TCP retransmissions over
 *             the window (all processes): a dropped segment costs a
 *             retransmission timeout, and shows as a late sample.
 *
 * It measures vitals and the bare broadcaster (bench/bare_broadcaster.c)
 * the same way; the driver (bench/run) starts each host, passes its port
 * and PID, and kills it afterwards.
 *
 * Being the measuring instrument, it must cost little next to the host:
 * one thread, one epoll set, one recv per readable socket into a shared
 * buffer, and a streaming frame parser that keeps only the first 128
 * bytes of each message (enough for "seq" and "ts", and for a ping's
 * payload, which the pong must echo) — the host's large `hello` is
 * skipped, never buffered.  Its own CPU is printed beside the host's.
 *
 * Bounded: connecting gives up after --connect-timeout seconds, the
 * measurement after (warm-up + T + 8) intervals.  Loopback only.
 *
 *   fanout --port P --clients N [--ticks T] [--interval S] [--warmup W]
 *          [--pid PID] [--label NAME] [--path /ws] [--batch B] [--settle S]
 *
 * --settle: how long to wait, once all are open, for the first sample
 * (the hellos, with the host's whole history, go out first; default 10 s).
 *
 * The last line it prints is "RESULT key=value ..." for bench/run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_CAP 128u     /* bytes of each message kept: type, seq, ts; a ping's payload */
#define RESP_CAP 1024     /* the HTTP 101 answer */
#define MAX_TICKS 3600

enum { ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_DEAD };

typedef struct client {
    int fd;
    uint8_t state;
    /* frame parser */
    uint8_t hdr[14], hdr_len, hdr_need;
    bool in_payload;
    uint8_t opcode;
    uint64_t payload_left;
    uint8_t head_len;
    char head[HEAD_CAP + 1];
    /* handshake */
    char *resp;
    size_t resp_len;
    /* accounting */
    int64_t last_seq;
    uint64_t gaps;
} client;

typedef struct tick {
    double first, last; /* CLOCK_REALTIME of the first / last receipt */
    double ts;          /* the sample's own timestamp */
    uint32_t count;
} tick;

static struct {
    int port, nclients, ticks, warmup, batch, pid;
    double interval, connect_timeout, settle;
    const char *label, *path;
} opt = {.nclients = 100, .ticks = 30, .warmup = 2, .batch = 200, .interval = 1.0,
         .connect_timeout = 180, .settle = 10, .label = "host", .path = "/ws"};

static client *clients;
static int epfd;
static int64_t max_seq_seen = -1;
static int64_t base_seq = -1;     /* first measured seq, -1 until decided */
static tick ticks[MAX_TICKS + 1]; /* one past the last: marks the window's end */
static float *latencies;          /* ms, one per (client, measured tick) */
static size_t nlat;
static uint64_t pongs_sent, closes_seen, protocol_errors;
static double first_ping_at; /* CLOCK_REALTIME of the first ping of the run, 0 if none */
static int open_now, dead_now;

static double realtime(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the watched host, from /proc ------------------------------------- */

/* utime+stime in clock ticks of /proc/<path>/stat; -1 when unreadable. */
static long long proc_cpu(const char *path, char *comm, size_t comm_cap)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close)
        return -1;
    if (comm) {
        size_t len = (size_t)(close - open - 1);
        if (len >= comm_cap)
            len = comm_cap - 1;
        memcpy(comm, open + 1, len);
        comm[len] = '\0';
    }
    /* After ")": state(3) ... utime(14) stime(15), counted from field 3. */
    char *p = close + 2;
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field <= 15 && p; field++) {
        if (field == 14)
            ut = strtoull(p, NULL, 10);
        if (field == 15)
            st = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return (long long)(ut + st);
}

/* Nanoseconds on a CPU of one task, from its schedstat (exact, where the
 * utime/stime of stat are sampled in 10 ms ticks: an idle host's short
 * bursts would read as 0 or 10 ms); from stat's ticks if unreadable. */
static long long task_cpu_ns(int tid, char *comm, size_t comm_cap, long long *wait_ns)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", opt.pid, tid);
    long long clock_ticks = proc_cpu(path, comm, comm_cap);
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", opt.pid, tid);
    FILE *f = fopen(path, "r");
    long long ns = -1;
    if (f) {
        /* The second field: time spent runnable but waiting for a CPU. */
        if (fscanf(f, "%lld %lld", &ns, wait_ns) != 2)
            ns = -1;
        fclose(f);
    }
    if (ns < 0 && clock_ticks >= 0)
        ns = clock_ticks * (1000000000LL / sysconf(_SC_CLK_TCK));
    return ns;
}

#define MAX_THREADS 64
typedef struct {
    int n;
    int tid[MAX_THREADS];
    long long cpu[MAX_THREADS]; /* ns */
    long long wait[MAX_THREADS]; /* ns runnable but not running */
    char comm[MAX_THREADS][32];
    long long total;            /* ns, the sum over the threads */
} cpu_snapshot;

static void snapshot(cpu_snapshot *s)
{
    char path[128];
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "/proc/%d/task", opt.pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) && s->n < MAX_THREADS;) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        int tid = atoi(e->d_name);
        long long w = 0;
        long long c = task_cpu_ns(tid, s->comm[s->n], sizeof s->comm[0], &w);
        if (c < 0)
            continue;
        s->tid[s->n] = tid;
        s->wait[s->n] = w;
        s->cpu[s->n++] = c;
        s->total += c;
    }
    closedir(d);
}

/* VmRSS / VmHWM in KiB. */
static void proc_memory(long *rss, long *hwm)
{
    char path[64], line[256];
    *rss = *hwm = -1;
    snprintf(path, sizeof path, "/proc/%d/status", opt.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6))
            *rss = atol(line + 6);
        else if (!strncmp(line, "VmHWM:", 6))
            *hwm = atol(line + 6);
    }
    fclose(f);
}

/* Machine-wide loopback trouble, for the window: packets the per-CPU
 * input backlog dropped (column 2 of /proc/net/softnet_stat, summed over
 * CPUs; loopback delivers through that queue, net.core.netdev_max_backlog
 * long) and TCP segments retransmitted (/proc/net/snmp RetransSegs).  A
 * dropped segment comes back only after a retransmission timeout (200 ms
 * or more), which shows as a late sample, not a missing one. */
static void net_trouble(long long *backlog_drops, long long *retrans)
{
    char line[1024];
    *backlog_drops = *retrans = 0;
    FILE *f = fopen("/proc/net/softnet_stat", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            unsigned processed, dropped;
            if (sscanf(line, "%x %x", &processed, &dropped) == 2)
                *backlog_drops += dropped;
        }
        fclose(f);
    }
    f = fopen("/proc/net/snmp", "r");
    if (f) {
        char names[1024] = "";
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "Tcp:", 4) != 0)
                continue;
            if (!names[0]) {
                snprintf(names, sizeof names, "%s", line);
                continue;
            }
            /* The values line: find RetransSegs' column in the names line. */
            int col = 0, want = -1;
            for (char *save, *t = strtok_r(names, " \n", &save); t; t = strtok_r(NULL, " \n", &save), col++)
                if (!strcmp(t, "RetransSegs"))
                    want = col;
            col = 0;
            for (char *save, *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save), col++)
                if (col == want)
                    *retrans = atoll(t);
            break;
        }
        fclose(f);
    }
}

/* ---- clients ------------------------------------------------------------ */

static void client_kill(client *c, const char *why)
{
    if (c->state == ST_DEAD)
        return;
    static int reported;
    if (why && reported++ < 5)
        fprintf(stderr, "fanout: client fd %d closed: %s\n", c->fd, why);
    if (c->state == ST_OPEN)
        open_now--;
    c->state = ST_DEAD;
    dead_now++;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->resp);
    c->resp = NULL;
}

static int client_start(client *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->state = ST_CONNECTING;
    c->last_seq = -1;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void send_request(client *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        client_kill(c, strerror(err));
        return;
    }
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", opt.path, opt.port);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        client_kill(c, "could not send the upgrade request");
        return;
    }
    c->state = ST_HANDSHAKE;
    c->resp = malloc(RESP_CAP);
    c->resp_len = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A masked pong echoing the ping's payload (client frames must be masked). */
static void send_pong(client *c, const char *payload, size_t len)
{
    uint8_t frame[6 + 125];
    frame[0] = 0x8A;
    frame[1] = (uint8_t)(0x80 | len);
    memset(frame + 2, 0, 4); /* a zero mask leaves the payload as it is */
    memcpy(frame + 6, payload, len);
    if (send(c->fd, frame, 6 + len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)(6 + len))
        pongs_sent++;
}

/* One `sample` message arrived complete at time `now`. */
static void on_sample(client *c, double now)
{
    const char *s = strstr(c->head, "\"seq\":");
    const char *t = strstr(c->head, "\"ts\":");
    if (!s || !t) {
        protocol_errors++;
        return;
    }
    int64_t seq = strtoll(s + 6, NULL, 10);
    double ts = strtod(t + 5, NULL);
    if (c->last_seq >= 0 && seq > c->last_seq + 1)
        c->gaps += (uint64_t)(seq - c->last_seq - 1);
    c->last_seq = seq;
    if (seq > max_seq_seen)
        max_seq_seen = seq;
    if (base_seq < 0 || seq < base_seq || seq > base_seq + opt.ticks)
        return;
    tick *k = &ticks[seq - base_seq];
    if (k->count == 0) {
        k->first = now;
        k->ts = ts;
    }
    if (now > k->last)
        k->last = now;
    k->count++;
    if (seq < base_seq + opt.ticks && nlat < (size_t)opt.nclients * (size_t)opt.ticks)
        latencies[nlat++] = (float)((now - ts) * 1e3);
}

static void on_message(client *c, double now)
{
    c->head[c->head_len] = '\0';
    switch (c->opcode) {
    case 0x1:
        if (!strncmp(c->head, "{\"type\":\"sample\"", 16))
            on_sample(c, now);
        break;
    case 0x9:
        if (first_ping_at == 0)
            first_ping_at = now;
        send_pong(c, c->head, c->head_len);
        break;
    case 0x8:
        closes_seen++;
        client_kill(c, "server sent close");
        break;
    default:
        break; /* pong, continuation, binary: nothing to measure */
    }
}

/* Feeds received bytes to the frame parser. */
static void consume(client *c, const uint8_t *p, size_t len, double now)
{
    while (len > 0 && c->state == ST_OPEN) {
        if (!c->in_payload) {
            c->hdr[c->hdr_len++] = *p++;
            len--;
            if (c->hdr_len == 2) {
                uint8_t l7 = c->hdr[1] & 0x7f;
                c->hdr_need = (uint8_t)(2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) +
                                        (c->hdr[1] & 0x80 ? 4 : 0));
                if (c->hdr[1] & 0x80)
                    protocol_errors++; /* servers must not mask */
            }
            if (c->hdr_len < 2 || c->hdr_len < c->hdr_need)
                continue;
            uint64_t plen = c->hdr[1] & 0x7f;
            if (plen == 126)
                plen = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            else if (plen == 127) {
                plen = 0;
                for (int i = 2; i < 10; i++)
                    plen = plen << 8 | c->hdr[i];
            }
            c->opcode = c->hdr[0] & 0x0f;
            c->payload_left = plen;
            c->head_len = 0;
            c->hdr_len = 0;
            c->in_payload = true;
            if (plen == 0) {
                c->in_payload = false;
                on_message(c, now);
            }
            continue;
        }
        size_t take = len < c->payload_left ? len : (size_t)c->payload_left;
        if (c->head_len < HEAD_CAP) {
            size_t keep = HEAD_CAP - c->head_len < take ? HEAD_CAP - c->head_len : take;
            memcpy(c->head + c->head_len, p, keep);
            c->head_len = (uint8_t)(c->head_len + keep);
        }
        p += take;
        len -= take;
        c->payload_left -= take;
        if (c->payload_left == 0) {
            c->in_payload = false;
            on_message(c, now);
        }
    }
}

static void on_handshake_bytes(client *c, const uint8_t *p, size_t len, double now)
{
    size_t room = RESP_CAP - 1 - c->resp_len;
    size_t take = len < room ? len : room;
    memcpy(c->resp + c->resp_len, p, take);
    c->resp_len += take;
    c->resp[c->resp_len] = '\0';
    char *end = strstr(c->resp, "\r\n\r\n");
    if (!end) {
        if (c->resp_len == RESP_CAP - 1)
            client_kill(c, "upgrade answer too long");
        return;
    }
    if (strncmp(c->resp, "HTTP/1.1 101", 12) != 0) {
        client_kill(c, "upgrade refused");
        return;
    }
    size_t header_len = (size_t)(end + 4 - c->resp);
    /* Bytes after the header (from this read) are the first frames. */
    size_t from_this_read = c->resp_len - header_len <= take ? c->resp_len - header_len : 0;
    size_t rest_offset = take - from_this_read;
    free(c->resp);
    c->resp = NULL;
    c->state = ST_OPEN;
    open_now++;
    consume(c, p + rest_offset, len - rest_offset, now);
}

static void on_readable(client *c)
{
    static uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            double now = realtime();
            if (c->state == ST_HANDSHAKE)
                on_handshake_bytes(c, buf, (size_t)n, now);
            else
                consume(c, buf, (size_t)n, now);
            if (c->state == ST_DEAD || (size_t)n < sizeof buf)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        client_kill(c, n == 0 ? "peer closed" : strerror(errno));
        return;
    }
}

static void dispatch(int timeout_ms)
{
    struct epoll_event ev[1024];
    int n = epoll_wait(epfd, ev, 1024, timeout_ms);
    for (int i = 0; i < n; i++) {
        client *c = ev[i].data.ptr;
        if (c->state == ST_DEAD)
            continue;
        if (c->state == ST_CONNECTING) {
            if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                send_request(c);
            continue;
        }
        on_readable(c);
    }
}

/* ---- figures ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static size_t rank(double p, size_t n)
{
    size_t r = (size_t)ceil(p * (double)n);
    return r == 0 ? 0 : r - 1;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --port P --clients N [--ticks T] [--interval S] [--warmup W]\n"
                    "       [--pid PID] [--label NAME] [--path /ws] [--batch B] [--connect-timeout S] [--settle S]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage(argv[0]);
        if (!strcmp(a, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(a, "--clients"))
            opt.nclients = atoi(v);
        else if (!strcmp(a, "--ticks"))
            opt.ticks = atoi(v);
        else if (!strcmp(a, "--interval"))
            opt.interval = atof(v);
        else if (!strcmp(a, "--warmup"))
            opt.warmup = atoi(v);
        else if (!strcmp(a, "--pid"))
            opt.pid = atoi(v);
        else if (!strcmp(a, "--label"))
            opt.label = v;
        else if (!strcmp(a, "--path"))
            opt.path = v;
        else if (!strcmp(a, "--batch"))
            opt.batch = atoi(v);
        else if (!strcmp(a, "--settle"))
            opt.settle = atof(v);
        else if (!strcmp(a, "--connect-timeout"))
            opt.connect_timeout = atof(v);
        else
            usage(argv[0]);
        i++;
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.nclients < 1 || opt.nclients > 100000 ||
        opt.ticks < 1 || opt.ticks > MAX_TICKS || opt.interval <= 0 || opt.batch < 1)
        usage(argv[0]);

    /* Each client is one descriptor: take the hard limit, as the host does. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.nclients + 16)
        fprintf(stderr, "fanout: open-file limit %llu is below %d clients\n",
                (unsigned long long)rl.rlim_cur, opt.nclients);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    clients = calloc((size_t)opt.nclients, sizeof *clients);
    latencies = malloc((size_t)opt.nclients * (size_t)opt.ticks * sizeof *latencies);
    if (epfd < 0 || !clients || !latencies) {
        perror("fanout");
        return 1;
    }

    /* Connect in batches: at most --batch handshakes in flight, so the
     * host's accept backlog is never overrun. */
    double t_connect = monotonic();
    int started = 0, failed = 0;
    while (open_now + dead_now < opt.nclients) {
        while (started < opt.nclients && started - open_now - dead_now < opt.batch) {
            if (client_start(&clients[started]) != 0) {
                clients[started].state = ST_DEAD;
                dead_now++;
                failed++;
            }
            started++;
        }
        dispatch(50);
        if (monotonic() - t_connect > opt.connect_timeout) {
            fprintf(stderr, "fanout: connect timeout, %d of %d open\n", open_now, opt.nclients);
            break;
        }
    }
    double connect_s = monotonic() - t_connect;
    int connected = open_now;
    printf("fanout[%s]: %d of %d clients open in %.1f s (%d failed to connect)\n", opt.label,
           connected, opt.nclients, connect_s, dead_now);
    fflush(stdout);
    fflush(stdout);
    if (connected == 0)
        return 1;

    /* Let the connection work settle: the window starts `warmup` ticks
     * after the newest sample seen now. */
    double wait_first = opt.interval * 5 > opt.settle ? opt.interval * 5 : opt.settle; /* hellos go first */
    double deadline = monotonic() + wait_first;
    while (max_seq_seen < 0 && monotonic() < deadline)
        dispatch(100);
    if (max_seq_seen < 0) {
        fprintf(stderr, "fanout: no sample within %.0f s\n", wait_first);
        return 1;
    }
    printf("  first sample after the upgrades: %.1f s after connecting began\n", monotonic() - t_connect);
    base_seq = max_seq_seen + 1 + opt.warmup;
    int open_at_start = open_now;

    cpu_snapshot cpu0 = {0}, cpu1 = {0};
    struct rusage ru0, ru1;
    double wall0 = 0, wall1 = 0;
    long long drops0 = 0, retrans0 = 0, drops1 = 0, retrans1 = 0;
    bool started_window = false, ended_window = false;
    deadline = monotonic() + opt.interval * (opt.warmup + opt.ticks + 8);
    double end_at = 0;
    while (monotonic() < deadline) {
        dispatch(20);
        if (!started_window && ticks[0].count > 0) {
            started_window = true;
            wall0 = monotonic();
            if (opt.pid)
                snapshot(&cpu0);
            getrusage(RUSAGE_SELF, &ru0);
            net_trouble(&drops0, &retrans0);
        }
        if (started_window && !ended_window && ticks[opt.ticks].count > 0) {
            ended_window = true;
            wall1 = monotonic();
            if (opt.pid)
                snapshot(&cpu1);
            getrusage(RUSAGE_SELF, &ru1);
            net_trouble(&drops1, &retrans1);
            /* Stragglers: a segment lost on loopback comes back after a
             * retransmission timeout, so wait 2.5 intervals before calling
             * a message missed (later ticks are not counted). */
            end_at = wall1 + opt.interval * 2.5;
        }
        if (ended_window && monotonic() >= end_at)
            break;
    }
    if (!ended_window) {
        fprintf(stderr, "fanout: the window did not complete (%s)\n",
                started_window ? "samples stopped" : "no sample in the window");
        return 1;
    }

    long rss = -1, hwm = -1;
    if (opt.pid)
        proc_memory(&rss, &hwm);

    /* Spread per tick, over the ticks anybody received. */
    double spreads[MAX_TICKS];
    int nspread = 0, late_ticks = 0, ticks_nobody = 0;
    uint64_t received = 0;
    for (int k = 0; k < opt.ticks; k++) {
        received += ticks[k].count;
        if (ticks[k].count == 0) {
            ticks_nobody++;
            continue;
        }
        spreads[nspread++] = (ticks[k].last - ticks[k].first) * 1e3;
        if (k > 0 && ticks[k - 1].count && ticks[k].ts - ticks[k - 1].ts > 1.5 * opt.interval)
            late_ticks++;
    }
    int worst = -1;
    for (int k = 0; k < opt.ticks; k++)
        if (ticks[k].count && (worst < 0 || ticks[k].last - ticks[k].first > ticks[worst].last - ticks[worst].first))
            worst = k;
    qsort(spreads, (size_t)nspread, sizeof(double), cmp_double);
    qsort(latencies, nlat, sizeof(float), cmp_float);
    uint64_t expected = (uint64_t)open_at_start * (uint64_t)opt.ticks;
    uint64_t missed = expected > received ? expected - received : 0;
    uint64_t gaps = 0;
    for (int i = 0; i < opt.nclients; i++)
        gaps += clients[i].gaps;

    double wall = wall1 - wall0;
    /* Threads that exist at both ends (the host's are long-lived). */
    long long host_ns = 0;
    for (int i = 0; i < cpu1.n; i++)
        for (int j = 0; j < cpu0.n; j++)
            if (cpu0.tid[j] == cpu1.tid[i])
                host_ns += cpu1.cpu[i] - cpu0.cpu[j];
    double host_cpu = opt.pid ? 100.0 * (double)host_ns * 1e-9 / wall : -1;
    double gen_cpu = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                      (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-6 +
                      (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-6) * 100.0 / wall;
    char load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf))
            strcpy(load, "?");
        load[strcspn(load, "\n")] = '\0';
        fclose(lf);
    }

    double sp50 = nspread ? spreads[rank(0.50, (size_t)nspread)] : NAN;
    double sp99 = nspread ? spreads[rank(0.99, (size_t)nspread)] : NAN;
    double spmax = nspread ? spreads[nspread - 1] : NAN;
    double l50 = nlat ? latencies[rank(0.50, nlat)] : NAN;
    double l99 = nlat ? latencies[rank(0.99, nlat)] : NAN;
    double lmax = nlat ? latencies[nlat - 1] : NAN;

    printf("  conditions: %d clients on 127.0.0.1:%d%s, interval %.3g s, %d ticks measured "
           "(seq %lld..%lld) after %d warm-up ticks, %.1f s window; loadavg %s\n",
           open_at_start, opt.port, opt.path, opt.interval, opt.ticks, (long long)base_seq,
           (long long)base_seq + opt.ticks - 1, opt.warmup, wall, load);
    printf("  spread first->last client per tick: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
           "(%d ticks; with 30 ticks p99 is the max)\n", sp50, sp99, spmax, nspread);
    if (worst >= 0)
        printf("  worst tick: #%d (seq %lld) at +%.1f s into the window, spread %.2f ms; %s%.1f s\n", worst,
               (long long)base_seq + worst, ticks[worst].first - ticks[0].first,
               (ticks[worst].last - ticks[worst].first) * 1e3,
               first_ping_at ? "the host's first ping arrived at +" : "no ping from the host, ",
               first_ping_at ? first_ping_at - ticks[0].first : 0.0);
    printf("  latency sample ts -> receipt: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%zu receipts)\n",
           l50, l99, lmax, nlat);
    printf("  missed: %llu of %llu messages of the window (none within 2.5 intervals after it); %llu seq gaps over the run; "
           "%d ticks reached nobody; %d ticks late (ts > 1.5 intervals after the previous); "
           "%d clients open at the end; %llu pings answered\n",
           (unsigned long long)missed, (unsigned long long)expected, (unsigned long long)gaps,
           ticks_nobody, late_ticks, open_now, (unsigned long long)pongs_sent);
    if (opt.pid) {
        printf("  host pid %d: CPU %.2f %% of one core over %.1f s; VmRSS %.1f MiB, VmHWM %.1f MiB\n",
               opt.pid, host_cpu, wall, (double)rss / 1024, (double)hwm / 1024);
        printf("  host threads (CPU %% of one core; ms per tick waiting for a CPU while runnable):");
        for (int i = 0; i < cpu1.n; i++) {
            long long before = 0, wait_before = 0;
            for (int j = 0; j < cpu0.n; j++)
                if (cpu0.tid[j] == cpu1.tid[i])
                    before = cpu0.cpu[j], wait_before = cpu0.wait[j];
            double pct = 100.0 * (double)(cpu1.cpu[i] - before) * 1e-9 / wall;
            if (pct >= 0.05)
                printf(" %s/%d %.2f %% (%.2f ms)", cpu1.comm[i], cpu1.tid[i], pct,
                       (double)(cpu1.wait[i] - wait_before) * 1e-6 / opt.ticks);
        }
        printf("\n");
    }
    printf("  load generator (this process): CPU %.2f %% of one core\n", gen_cpu);
    printf("  machine during the window: %lld packets dropped by the input backlog, %lld TCP "
           "segments retransmitted (all processes)\n", drops1 - drops0, retrans1 - retrans0);
    printf("RESULT label=%s clients=%d open=%d connect_s=%.1f ticks=%d spread_p50_ms=%.3f "
           "spread_p99_ms=%.3f spread_max_ms=%.3f lat_p50_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f "
           "missed=%llu gaps=%llu late_ticks=%d cpu_pct=%.3f rss_mib=%.1f hwm_mib=%.1f "
           "gen_cpu_pct=%.2f protocol_errors=%llu backlog_drops=%lld retrans=%lld\n",
           opt.label, opt.nclients, open_at_start, connect_s, opt.ticks, sp50, sp99, spmax, l50, l99,
           lmax, (unsigned long long)missed, (unsigned long long)gaps, late_ticks, host_cpu,
           (double)rss / 1024, (double)hwm / 1024, gen_cpu, (unsigned long long)protocol_errors,
           drops1 - drops0, retrans1 - retrans0);
    fflush(stdout);
    for (int i = 0; i < opt.nclients; i++)
        if (clients[i].state != ST_DEAD)
            close(clients[i].fd);
    free(clients);
    free(latencies);
    return 0;
}
