/*
 * client_bench.c — what recording one action costs an application through
 * the vitals C client (DESIGN.md §5: <= 100 ns median, never blocks,
 * 2 threads >= 1.8x one thread's throughput).
 *
 * The bench opens its own UDP socket on 127.0.0.1 (an ephemeral port, never
 * anything but loopback), points one client at it and calls vitals_action()
 * in tight loops from 1 and from 2 threads.  Each thread times batches of
 * 1000 calls with CLOCK_MONOTONIC; the figures are the median and p99 of the
 * per-call cost of those batches — so the sends of full datagrams, which
 * the calling thread makes itself, are included, amortised — and the
 * aggregate throughput.  Small VMs drift in speed by tens of percent from
 * one second to the next, so the 1- and 2-thread cases run in alternating
 * rounds (8 rounds of seconds/8 each by default) and the same alternation
 * measures a reference loop that shares nothing (pure CPU work of the same
 * size): its 2T/1T ratio is the most this machine can give.
 *
 * By default nothing reads the socket: once its receive buffer is full the
 * kernel discards each datagram at the end of the same send path, so the
 * cost measured is the application's own.  --drain adds a reader thread
 * (which competes for the CPUs) and reports how many lines arrived.
 *
 *     vitals_client_bench [--seconds S] [--rounds R] [--drain]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <vitals/client.h>

#define BATCH 1000
#define MAX_THREADS 2
#define WARMUP 20000

typedef struct {
    double *ns;        /* per-call ns of each timed batch */
    size_t n, cap;
    unsigned long long calls;
    double elapsed;    /* seconds in timed batches */
} samples;

typedef struct {
    vitals_client *client; /* NULL: the reference loop */
    double seconds;
    samples *out;
    unsigned seed;
} worker;

static atomic_bool draining;
static atomic_ullong lines_received;
static atomic_int ready;
static atomic_bool go;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char *const names[] = {"fetch_page", "parse_html", "save_record", "send_email",
                                    "resize_image"};

/* The reference: work of the same size and shape as a call (a number
 * printed, a name copied, bytes appended to a buffer), sharing nothing. */
static char ref_sink[MAX_THREADS][64];
static void reference_call(char *buf, size_t *len, const char *name, unsigned v)
{
    char tmp[16];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    if (*len + 64 > 1432)
        *len = 0;
    memcpy(buf + *len, "action:", 7);
    for (size_t i = 0; i < n; i++)
        buf[*len + 7 + i] = tmp[n - 1 - i];
    size_t nl = strlen(name);
    memcpy(buf + *len + 7 + n, name, nl);
    *len += 7 + n + nl;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    samples *s = w->out;
    char buf[1500];
    size_t len = 0;
    unsigned i = w->seed;
    for (int k = 0; k < WARMUP; k++, i++) { /* registers the thread's buffer */
        if (w->client)
            vitals_action(w->client, names[i % 5], (double)(i % 997) * 1.3e-4, i % 17 != 0);
        else
            reference_call(buf, &len, names[i % 5], i);
    }
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&go))
        ;
    double end = now_s() + w->seconds;
    while (s->n < s->cap) {
        double t0 = now_s();
        if (w->client) {
            for (int k = 0; k < BATCH; k++, i++)
                vitals_action(w->client, names[i % 5], (double)(i % 997) * 1.3e-4, i % 17 != 0);
        } else {
            for (int k = 0; k < BATCH; k++, i++)
                reference_call(buf, &len, names[i % 5], i);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
        }
        double t1 = now_s();
        s->ns[s->n++] = (t1 - t0) * 1e9 / BATCH;
        s->calls += BATCH;
        s->elapsed += t1 - t0;
        if (t1 >= end)
            break;
    }
    memcpy(ref_sink[w->seed % MAX_THREADS], buf, sizeof ref_sink[0]);
    return NULL;
}

/* One round: `threads` threads for `seconds`, into per-thread samples. */
static double run_round(vitals_client *c, int threads, double seconds, samples *out)
{
    pthread_t t[MAX_THREADS];
    worker w[MAX_THREADS];
    double rate = 0;
    atomic_store(&ready, 0);
    atomic_store(&go, false);
    for (int k = 0; k < threads; k++) {
        w[k] = (worker){.client = c, .seconds = seconds, .out = &out[k], .seed = (unsigned)k * 7919u};
        if (pthread_create(&t[k], NULL, run_worker, &w[k]) != 0) {
            fprintf(stderr, "cannot start a thread\n");
            exit(1);
        }
    }
    while (atomic_load(&ready) < threads)
        usleep(100);
    unsigned long long calls0[MAX_THREADS];
    double el0[MAX_THREADS];
    for (int k = 0; k < threads; k++)
        calls0[k] = out[k].calls, el0[k] = out[k].elapsed;
    atomic_store(&go, true);
    for (int k = 0; k < threads; k++) {
        pthread_join(t[k], NULL);
        rate += (double)(out[k].calls - calls0[k]) / (out[k].elapsed - el0[k]);
    }
    return rate;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double median, p99, rate;
} figures;

static figures summarise(samples *s, int threads)
{
    size_t total = 0;
    for (int k = 0; k < threads; k++)
        total += s[k].n;
    double *all = malloc(total * sizeof(double));
    size_t n = 0;
    figures f = {0};
    for (int k = 0; k < threads; k++) {
        memcpy(all + n, s[k].ns, s[k].n * sizeof(double));
        n += s[k].n;
        f.rate += (double)s[k].calls / s[k].elapsed;
    }
    qsort(all, n, sizeof(double), cmp_double);
    f.median = all[n / 2];
    f.p99 = all[n * 99 / 100];
    free(all);
    return f;
}

/* Alternates 1- and 2-thread rounds; fills f[1], f[2] and the median of the
 * per-round 2T/1T ratios. */
static double compare(vitals_client *c, double seconds, int rounds, figures f[MAX_THREADS + 1])
{
    samples s[MAX_THREADS + 1][MAX_THREADS];
    size_t cap = (size_t)(seconds * 4e7 / BATCH) + 64; /* room for 25 ns/call */
    for (int t = 1; t <= MAX_THREADS; t++)
        for (int k = 0; k < MAX_THREADS; k++)
            s[t][k] = (samples){.ns = malloc(cap * sizeof(double)), .cap = cap};
    double ratios[64];
    for (int r = 0; r < rounds; r++) {
        double one = run_round(c, 1, seconds / rounds, s[1]);
        double two = run_round(c, 2, seconds / rounds, s[2]);
        ratios[r] = two / one;
    }
    for (int t = 1; t <= MAX_THREADS; t++) {
        f[t] = summarise(s[t], t);
        for (int k = 0; k < MAX_THREADS; k++)
            free(s[t][k].ns);
    }
    qsort(ratios, (size_t)rounds, sizeof(double), cmp_double);
    return ratios[rounds / 2];
}

static void *run_drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[2048];
    while (atomic_load(&draining)) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            usleep(100);
            continue;
        }
        unsigned long long k = 0;
        for (ssize_t j = 0; j < n; j++)
            k += buf[j] == '\n';
        atomic_fetch_add(&lines_received, k);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    int rounds = 8, drain = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--drain"))
            drain = 1;
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--rounds R] [--drain]\n", argv[0]);
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 60)
        seconds = 2.0;
    if (rounds < 1 || rounds > 64)
        rounds = 8;

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("receiver socket");
        return 1;
    }
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));
    int rcvbuf = 0;
    len = sizeof rcvbuf;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
    pthread_t drainer;
    atomic_store(&draining, true);
    if (drain && pthread_create(&drainer, NULL, run_drain, &fd) != 0)
        drain = 0;

    struct utsname u;
    uname(&u);
    char load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf))
            strcpy(load, "?");
        load[strcspn(load, "\n")] = '\0';
        fclose(lf);
    }
    printf("vitals_client_bench: vitals_action() -> %s; %.1f s per case in %d alternating rounds;"
           " batches of %d calls\n", addr, seconds, rounds, BATCH);
    printf("  machine: %ld CPUs online, %s %s, loadavg %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           u.sysname, u.release, load);
    printf("  receiver: SO_RCVBUF %d bytes, %s\n", rcvbuf,
           drain ? "drained by a reader thread" : "not read (the kernel discards when full)");

    vitals_client *c = vitals_client_open(addr);
    if (!c) {
        perror("vitals_client_open");
        return 1;
    }
    figures f[MAX_THREADS + 1], ref[MAX_THREADS + 1];
    double ratio = compare(c, seconds, rounds, f);
    unsigned long long dropped = vitals_client_dropped(c);
    vitals_client_close(c);
    double ref_ratio = compare(NULL, seconds / 4, rounds, ref);

    for (int t = 1; t <= MAX_THREADS; t++)
        printf("  %d thread%s: median %5.1f ns/call, p99 %5.1f ns/call, %6.2f M calls/s aggregate\n",
               t, t > 1 ? "s" : " ", f[t].median, f[t].p99, f[t].rate / 1e6);
    printf("  throughput 2 threads / 1 thread: %.2fx overall, %.2fx median of rounds"
           " (target >= 1.8x; median target <= 100 ns)\n", f[2].rate / f[1].rate, ratio);
    printf("  reference loop sharing nothing: 2T/1T %.2fx overall, %.2fx median of rounds"
           " (%.1f / %.1f ns per call)\n", ref[2].rate / ref[1].rate, ref_ratio, ref[1].median,
           ref[2].median);
    printf("  lines dropped by the client: %llu\n", dropped);
    if (drain) {
        atomic_store(&draining, false);
        pthread_join(drainer, NULL);
        printf("  lines received by the reader: %llu\n", atomic_load(&lines_received));
    }
    close(fd);
    return 0;
}
