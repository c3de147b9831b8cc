/*
 * test_client.c — the C client (sdk/client) against a real UDP socket on
 * 127.0.0.1: the exact lines of every call, name sanitising and cutting,
 * batching into datagrams of at most 1432 bytes, four threads at once, the
 * background flush, exited threads, many clients, bad addresses, NULL
 * clients, and a host that is down.  Also the pure formatters of line.h.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vitals/client.h>

#include "client/line.h"
#include "run_suite.h"

/* ---- a receiving socket ---------------------------------------------- */

typedef struct {
    int fd;
    char addr[64];
    char *data;          /* every datagram received, each followed by '\0' */
    size_t len, cap;
    size_t datagrams, max_datagram;
    pthread_t thread;
    volatile int stop;   /* guarded by mu */
    pthread_mutex_t mu;
} receiver;

static void rx_open(receiver *r, int family)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->fd = socket(family, SOCK_DGRAM, 0);
    ck_assert_int_ge(r->fd, 0);
    int size = 4 << 20;
    if (setsockopt(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct timeval tv = {.tv_usec = 20000};
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (family == AF_INET6) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        socklen_t len = sizeof sa;
        ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(getsockname(r->fd, (struct sockaddr *)&sa, &len), 0);
        snprintf(r->addr, sizeof r->addr, "[::1]:%u", ntohs(sa.sin6_port));
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(getsockname(r->fd, (struct sockaddr *)&sa, &len), 0);
        snprintf(r->addr, sizeof r->addr, "127.0.0.1:%u", ntohs(sa.sin_port));
    }
}

/* Receives one datagram (waiting up to 20 ms); false when none came. */
static bool rx_one(receiver *r)
{
    char buf[65536];
    ssize_t n = recv(r->fd, buf, sizeof buf, 0);
    if (n <= 0)
        return false;
    pthread_mutex_lock(&r->mu);
    if (r->len + (size_t)n + 1 > r->cap) {
        r->cap = (r->cap + (size_t)n + 1) * 2;
        r->data = realloc(r->data, r->cap);
    }
    memcpy(r->data + r->len, buf, (size_t)n);
    r->data[r->len + (size_t)n] = '\0';
    r->len += (size_t)n + 1;
    r->datagrams++;
    if ((size_t)n > r->max_datagram)
        r->max_datagram = (size_t)n;
    pthread_mutex_unlock(&r->mu);
    return true;
}

/* Receives until nothing came for `quiet_ms`. */
static void rx_drain(receiver *r, int quiet_ms)
{
    int idle = 0;
    while (idle < quiet_ms) {
        if (rx_one(r))
            idle = 0;
        else
            idle += 20;
    }
}

static void *rx_run(void *arg)
{
    receiver *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        rx_one(r);
    }
    return NULL;
}

/* Receives in a thread of its own, for senders faster than a socket buffer. */
static void rx_start(receiver *r)
{
    ck_assert_int_eq(pthread_create(&r->thread, NULL, rx_run, r), 0);
}

static void rx_stop(receiver *r)
{
    usleep(200000); /* the last datagrams are on their way */
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    rx_drain(r, 100);
}

static void rx_close(receiver *r)
{
    close(r->fd);
    free(r->data);
    pthread_mutex_destroy(&r->mu);
}

/* Every received line, in arrival order, as one '\n'-joined string;
 * checks that each datagram ends with a '\n' and fits the payload limit. */
static char *rx_text(receiver *r, size_t *lines)
{
    char *out = malloc(r->len + 1);
    size_t n = 0, k = 0;
    for (size_t off = 0; off < r->len;) {
        size_t dl = strlen(r->data + off);
        ck_assert_uint_le(dl, VITALS_CLIENT_MAX_PAYLOAD);
        ck_assert_uint_gt(dl, 0);
        ck_assert_int_eq(r->data[off + dl - 1], '\n');
        memcpy(out + n, r->data + off, dl);
        n += dl;
        for (size_t i = 0; i < dl; i++)
            k += r->data[off + i] == '\n';
        off += dl + 1;
    }
    out[n] = '\0';
    if (lines)
        *lines = k;
    return out;
}

/* ---- formatting (line.h) --------------------------------------------- */

static const char *ms(double seconds)
{
    static char buf[64];
    buf[vl_ms(buf, seconds)] = '\0';
    return buf;
}

START_TEST(test_ms_format)
{
    ck_assert_str_eq(ms(0.0123456), "12.346");
    ck_assert_str_eq(ms(1.5), "1500");
    ck_assert_str_eq(ms(2e-6), "0.002");
    ck_assert_str_eq(ms(0.0005), "0.5");
    ck_assert_str_eq(ms(0.00005), "0.05");
    ck_assert_str_eq(ms(0.001), "1");
    ck_assert_str_eq(ms(0.0119999), "12");
    ck_assert_str_eq(ms(1e-7), "0");
    ck_assert_str_eq(ms(0), "0");
    ck_assert_str_eq(ms(-3), "0");
    ck_assert_str_eq(ms(NAN), "0");
    ck_assert_str_eq(ms(INFINITY), "1000000000000000");
    ck_assert_str_eq(ms(86400), "86400000");
    ck_assert_str_eq(ms(123456.789), "123456789");
}
END_TEST

START_TEST(test_numbers_and_names)
{
    char buf[VL_MAX_LINE + 1];
    buf[vl_long(buf, -42)] = '\0';
    ck_assert_str_eq(buf, "-42");
    buf[vl_long(buf, 0)] = '\0';
    ck_assert_str_eq(buf, "0");
    buf[vl_u64(buf, UINT64_MAX)] = '\0';
    ck_assert_str_eq(buf, "18446744073709551615");
    buf[vl_name(buf, "a|b,c#d\ne:f\rg h")] = '\0';
    ck_assert_str_eq(buf, "a_b_c_d_e_f_g h");
    buf[vl_name(buf, NULL)] = '\0';
    ck_assert_str_eq(buf, "unnamed");
    buf[vl_name(buf, "")] = '\0';
    ck_assert_str_eq(buf, "unnamed");
}
END_TEST

/* ---- lines on the wire ----------------------------------------------- */

START_TEST(test_every_call_exact_lines)
{
    receiver r;
    rx_open(&r, AF_INET);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    vitals_action(c, "fetch_page", 0.0123456, true);
    vitals_action(c, "a|b,c#d\ne:f", 0, false);
    vitals_action(c, NULL, 2.5, true);
    vitals_event(c, 1.5, true);
    vitals_event(c, 0.0005, false);
    vitals_event_queued(c, 3);
    vitals_event_queued(c, 0);
    vitals_event_queued(c, -2);
    vitals_queue_depth(c, "action", 7);
    vitals_queue_depth(c, "event", -5);
    vitals_queue_depth(c, "my:q", 2);
    vitals_current_action(c, "fetch_page");
    vitals_current_action(c, NULL);
    vitals_current_action(c, "");
    vitals_current_action(c, "send|mail");
    vitals_client_flush(c);
    rx_drain(&r, 200);
    char *text = rx_text(&r, NULL);
    ck_assert_str_eq(text,
                     "action:12.346|ms|#name:fetch_page,ok:true\n"
                     "action:0|ms|#name:a_b_c_d_e_f,ok:false\n"
                     "action:2500|ms|#name:unnamed,ok:true\n"
                     "event:1500|ms|#ok:true\n"
                     "event:0.5|ms|#ok:false\n"
                     "event.queued:3|c\n"
                     "action.queue:7|g\n"
                     "event.queue:0|g\n"
                     "my_q.queue:2|g\n"
                     "action.current:fetch_page|s\n"
                     "action.current:-|s\n"
                     "action.current:-|s\n"
                     "action.current:send_mail|s\n");
    ck_assert_uint_eq(r.datagrams, 1);
    ck_assert_uint_eq(vitals_client_dropped(c), 0);
    free(text);
    vitals_client_close(c);
    rx_close(&r);
}
END_TEST

START_TEST(test_long_names_cut_on_utf8_boundary)
{
    receiver r;
    rx_open(&r, AF_INET);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    char a150[151], a99e[128], a98e[128], a98euro[128], a100[101];
    memset(a150, 'x', 150), a150[150] = '\0';
    memset(a100, 'x', 100), a100[100] = '\0';
    memset(a99e, 'a', 99), strcpy(a99e + 99, "\xc3\xa9zz");       /* é crosses byte 100 */
    memset(a98e, 'a', 98), strcpy(a98e + 98, "\xc3\xa9zz");       /* é ends at byte 100 */
    memset(a98euro, 'a', 98), strcpy(a98euro + 98, "\xe2\x82\xac"); /* € crosses byte 100 */
    vitals_action(c, a150, 0.001, true);
    vitals_action(c, a99e, 0.001, true);
    vitals_action(c, a98e, 0.001, true);
    vitals_action(c, a98euro, 0.001, true);
    vitals_queue_depth(c, a150, 1);
    vitals_current_action(c, a150);
    vitals_client_flush(c);
    rx_drain(&r, 200);
    char *text = rx_text(&r, NULL);
    char want[2048];
    snprintf(want, sizeof want,
             "action:1|ms|#name:%s,ok:true\n"
             "action:1|ms|#name:%.99s,ok:true\n"
             "action:1|ms|#name:%.100s,ok:true\n"
             "action:1|ms|#name:%.98s,ok:true\n"
             "%s.queue:1|g\n"
             "action.current:%s|s\n",
             a100, a99e, a98e, a98euro, a100, a100);
    ck_assert_str_eq(text, want);
    free(text);
    vitals_client_close(c);
    rx_close(&r);
}
END_TEST

START_TEST(test_batching_in_order_nothing_lost)
{
    receiver r;
    rx_open(&r, AF_INET);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    enum { N = 1000 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "n%d", i);
        vitals_action(c, name, i * 1e-6, i % 3 != 0);
    }
    vitals_client_flush(c);
    rx_drain(&r, 200);
    size_t lines;
    char *text = rx_text(&r, &lines);
    ck_assert_uint_eq(lines, N);
    ck_assert_uint_le(r.max_datagram, VITALS_CLIENT_MAX_PAYLOAD);
    ck_assert_uint_gt(r.max_datagram, VITALS_CLIENT_MAX_PAYLOAD - 64); /* batches are full */
    ck_assert_uint_lt(r.datagrams, N / 20);
    char *p = text, want[128];
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof want, "action:%s|ms|#name:n%d,ok:%s\n", ms(i * 1e-6), i,
                 i % 3 != 0 ? "true" : "false");
        ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "line %d: want %s", i, want);
        p += strlen(want);
    }
    ck_assert_uint_eq(vitals_client_dropped(c), 0);
    free(text);
    vitals_client_close(c);
    rx_close(&r);
}
END_TEST

enum { THREADS = 4, PER_THREAD = 5000 };

typedef struct {
    vitals_client *c;
    int k;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    char name[32];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(name, sizeof name, "t%d_%d", w->k, i);
        vitals_action(w->c, name, 0.002, true);
        if (i % 100 == 0) {
            vitals_queue_depth(w->c, "action", i);
            vitals_current_action(w->c, name);
            vitals_event(w->c, 0.001, false);
            vitals_event_queued(w->c, 1);
        }
    }
    return NULL;
}

START_TEST(test_four_threads)
{
    receiver r;
    rx_open(&r, AF_INET);
    rx_start(&r);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    pthread_t t[THREADS];
    worker_arg w[THREADS];
    for (int k = 0; k < THREADS; k++) {
        w[k] = (worker_arg){c, k};
        ck_assert_int_eq(pthread_create(&t[k], NULL, worker, &w[k]), 0);
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    vitals_client_flush(c);
    rx_stop(&r);
    size_t lines;
    char *text = rx_text(&r, &lines);
    ck_assert_uint_eq(vitals_client_dropped(c), 0);
    ck_assert_uint_eq(lines, THREADS * (PER_THREAD + PER_THREAD / 100 * 4));
    /* Each thread's actions arrive whole, once, and in its order. */
    int next[THREADS] = {0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int k, i;
        if (sscanf(line, "action:2|ms|#name:t%d_%d,ok:true", &k, &i) == 2) {
            ck_assert_int_lt(k, THREADS);
            ck_assert_int_eq(i, next[k]);
            next[k]++;
        } else {
            ck_assert_msg(!strncmp(line, "action.queue:", 13) || !strncmp(line, "action.current:t", 16) ||
                              !strcmp(line, "event:1|ms|#ok:false") || !strcmp(line, "event.queued:1|c"),
                          "unexpected line %s", line);
        }
    }
    for (int k = 0; k < THREADS; k++)
        ck_assert_int_eq(next[k], PER_THREAD);
    free(text);
    vitals_client_close(c);
    rx_close(&r);
}
END_TEST

/* ---- the background thread, exited threads, many clients ------------ */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

START_TEST(test_background_flush)
{
    receiver r;
    rx_open(&r, AF_INET);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    for (int round = 0; round < 3; round++) {
        double t0 = now_ms();
        vitals_current_action(c, "idle");
        while (!rx_one(&r) && now_ms() - t0 < 2000)
            ;
        double waited = now_ms() - t0;
        ck_assert_uint_eq(r.datagrams, (size_t)round + 1);
        /* 100 ms at the latest, plus slack for a loaded test machine. */
        ck_assert_msg(waited < 500, "waited %.0f ms", waited);
    }
    vitals_client_close(c);
    rx_close(&r);
}
END_TEST

static void *short_lived(void *arg)
{
    vitals_client *c = arg;
    vitals_action(c, "last_words", 0.001, true);
    return NULL;
}

static pthread_barrier_t outlive;

static void *outliving(void *arg)
{
    vitals_client *c = arg;
    vitals_action(c, "outliving", 0.001, true);
    pthread_barrier_wait(&outlive); /* the client closes now */
    pthread_barrier_wait(&outlive);
    return NULL;                    /* exits after the client is gone */
}

START_TEST(test_exited_thread_lines_still_sent)
{
    receiver r;
    rx_open(&r, AF_INET);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    for (int i = 0; i < 20; i++) {
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, short_lived, c), 0);
        pthread_join(t, NULL);
    }
    usleep(300000); /* the flush thread sends and frees the orphans */
    rx_drain(&r, 100);
    size_t lines;
    char *text = rx_text(&r, &lines);
    ck_assert_uint_eq(lines, 20);
    free(text);
    /* A thread that outlives the client it used. */
    pthread_t t;
    ck_assert_int_eq(pthread_barrier_init(&outlive, NULL, 2), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, outliving, c), 0);
    pthread_barrier_wait(&outlive);
    vitals_client_close(c);
    pthread_barrier_wait(&outlive);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&outlive);
    rx_drain(&r, 100);
    text = rx_text(&r, &lines); /* close sent the line the thread left */
    ck_assert_uint_eq(lines, 21);
    ck_assert_ptr_nonnull(strstr(text, "action:1|ms|#name:outliving,ok:true\n"));
    free(text);
    rx_close(&r);
}
END_TEST

START_TEST(test_many_clients_one_thread)
{
    receiver r;
    rx_open(&r, AF_INET);
    /* Open and close in turn: this thread reclaims its buffers. */
    for (int i = 0; i < 50; i++) {
        vitals_client *c = vitals_client_open(r.addr);
        ck_assert_ptr_nonnull(c);
        vitals_event_queued(c, i + 1);
        vitals_client_close(c);
    }
    /* More open at once than a thread has buffer slots: the rest share. */
    vitals_client *cs[12];
    for (int i = 0; i < 12; i++) {
        cs[i] = vitals_client_open(r.addr);
        ck_assert_ptr_nonnull(cs[i]);
        vitals_queue_depth(cs[i], "event", i);
    }
    for (int i = 0; i < 12; i++)
        vitals_client_close(cs[i]);
    rx_drain(&r, 200);
    size_t lines;
    char *text = rx_text(&r, &lines);
    ck_assert_uint_eq(lines, 62);
    ck_assert_ptr_nonnull(strstr(text, "event.queued:50|c\n"));
    ck_assert_ptr_nonnull(strstr(text, "event.queue:11|g\n"));
    free(text);
    rx_close(&r);
}
END_TEST

START_TEST(test_ipv6_and_names)
{
    receiver r;
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return; /* no IPv6 here */
    close(fd);
    rx_open(&r, AF_INET6);
    vitals_client *c = vitals_client_open(r.addr);
    ck_assert_ptr_nonnull(c);
    vitals_event(c, 0.25, true);
    vitals_client_close(c); /* close flushes */
    rx_drain(&r, 200);
    char *text = rx_text(&r, NULL);
    ck_assert_str_eq(text, "event:250|ms|#ok:true\n");
    free(text);
    rx_close(&r);

    rx_open(&r, AF_INET);
    char addr[64];
    snprintf(addr, sizeof addr, "localhost%s", strchr(r.addr, ':'));
    c = vitals_client_open(addr);
    ck_assert_ptr_nonnull(c);
    vitals_event(c, 0.25, false);
    vitals_client_close(c);
    rx_drain(&r, 200);
    text = rx_text(&r, NULL);
    ck_assert_str_eq(text, "event:250|ms|#ok:false\n");
    free(text);
    rx_close(&r);
}
END_TEST

/* ---- errors and harmless cases --------------------------------------- */

START_TEST(test_bad_addresses)
{
    const char *bad[] = {"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:12a",
                         "127.0.0.1:123456", ":8125", "[::1", "[::1]x", "[]:8125", "[::1]:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ck_assert_msg(vitals_client_open(bad[i]) == NULL, "%s accepted", bad[i]);
        ck_assert_int_eq(errno, EINVAL);
    }
    errno = 0;
    ck_assert_ptr_null(vitals_client_open("no-such-host.invalid:8125"));
    ck_assert_int_ne(errno, 0);
    /* The defaults and the other accepted forms open (UDP: no one needs to listen). */
    const char *good[] = {NULL, "", "127.0.0.1", "127.0.0.1:8125", "::1", "[::1]", "[::1]:9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        vitals_client *c = vitals_client_open(good[i]);
        if (i >= 4 && !c)
            continue; /* no IPv6 on this machine */
        ck_assert_msg(c != NULL, "%s refused", good[i] ? good[i] : "NULL");
        vitals_client_close(c);
    }
}
END_TEST

START_TEST(test_null_client_is_a_no_op)
{
    vitals_action(NULL, "x", 1, true);
    vitals_event(NULL, 1, true);
    vitals_event_queued(NULL, 1);
    vitals_queue_depth(NULL, "action", 1);
    vitals_current_action(NULL, "x");
    vitals_client_flush(NULL);
    ck_assert_uint_eq(vitals_client_dropped(NULL), 0);
    vitals_client_close(NULL);
}
END_TEST

START_TEST(test_host_down_is_harmless)
{
    /* A port that was just free: nothing listens, loopback answers with
     * ICMP port unreachable, which the connected socket reports. */
    receiver r;
    rx_open(&r, AF_INET);
    char addr[64];
    strcpy(addr, r.addr);
    rx_close(&r);
    vitals_client *c = vitals_client_open(addr);
    ck_assert_ptr_nonnull(c);
    unsigned long long total = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 500; i++, total++)
            vitals_action(c, "fetch_page", 0.001, true);
        errno = 1234;
        vitals_client_flush(c);
        ck_assert_int_eq(errno, 1234); /* the client leaves errno alone */
        usleep(10000);
    }
    ck_assert_uint_gt(vitals_client_dropped(c), 0);
    ck_assert_uint_le(vitals_client_dropped(c), total);
    vitals_client_close(c);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *fmt = tcase_create("format");
    tcase_add_test(fmt, test_ms_format);
    tcase_add_test(fmt, test_numbers_and_names);
    suite_add_tcase(s, fmt);
    TCase *wire = tcase_create("wire");
    tcase_set_timeout(wire, 30);
    tcase_add_test(wire, test_every_call_exact_lines);
    tcase_add_test(wire, test_long_names_cut_on_utf8_boundary);
    tcase_add_test(wire, test_batching_in_order_nothing_lost);
    tcase_add_test(wire, test_four_threads);
    tcase_add_test(wire, test_background_flush);
    tcase_add_test(wire, test_exited_thread_lines_still_sent);
    tcase_add_test(wire, test_many_clients_one_thread);
    tcase_add_test(wire, test_ipv6_and_names);
    suite_add_tcase(s, wire);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, test_bad_addresses);
    tcase_add_test(err, test_null_client_is_a_no_op);
    tcase_add_test(err, test_host_down_is_harmless);
    suite_add_tcase(s, err);
    return s;
}

int main(void)
{
    return vitals_run_suite(client_suite());
}
