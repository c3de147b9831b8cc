/*
 * demo_app.c — a fake application that reports realistic activity to a
 * vitals host through the C client (sdk/vitals/client.h), so the dashboard
 * has something alive to draw.
 *
 * What it simulates: a small crawler-like service.
 *   - A producer thread enqueues jobs into an action queue at a steady rate
 *     (~40/s), with a burst every ~20-40 s (a few hundred jobs at once), so
 *     the queue fills and drains.
 *   - Six worker threads take jobs and perform actions ("fetch_page",
 *     "parse_html", "save_record", "send_email", "resize_image"), each with
 *     its own log-normal duration (median 3-120 ms) and usual success rate
 *     (97-99.5 %); each worker reports the action it is doing now.
 *   - About every minute an error spell starts: for ~10 s the success rate
 *     drops (to ~60 %) and durations grow (a slow, flaky upstream).
 *   - Actions emit events (a page fetched, a record saved) into an event
 *     queue, counted as queued; an event thread processes them with its own
 *     processing times (log-normal, median 20 ms) and occasional failures,
 *     and stalls for ~5 s every ~45 s (a slow downstream), so that queue
 *     fills and drains too.
 *   - Queue depths are reported as gauges every 250 ms.
 *
 *     demo_app [--host HOST:PORT] [--seconds N]
 *
 * Without --seconds it runs until SIGINT or SIGTERM; either way it stops its
 * threads, closes the client (which flushes) and exits 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vitals/client.h>

#define WORKERS 6
#define QUEUE_CAP 2000

typedef struct {
    const char *name;
    double median_s;   /* median duration */
    double sigma;      /* log-normal spread */
    double ok_rate;    /* usual success rate */
    int emits_event;   /* queues an event when it succeeds */
} action_kind;

static const action_kind kinds[] = {
    {"fetch_page", 0.120, 0.6, 0.985, 1},
    {"parse_html", 0.015, 0.4, 0.995, 0},
    {"save_record", 0.008, 0.5, 0.99, 1},
    {"send_email", 0.060, 0.7, 0.97, 0},
    {"resize_image", 0.045, 0.3, 0.99, 0},
};
#define KINDS (sizeof kinds / sizeof kinds[0])

/* A bounded queue of job kinds (or events), with a mutex and a condition. */
typedef struct {
    int items[QUEUE_CAP];
    size_t head, count;
    pthread_mutex_t mu;
    pthread_cond_t ready;
} queue;

static vitals_client *client;
static atomic_bool running = true;
static double start_time;
static queue jobs, events;

/* ---- small helpers --------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR && atomic_load(&running))
        ;
}

/* xorshift64*: one state per thread, no locks. */
static double uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

static double lognormal(uint64_t *s, double median, double sigma)
{
    return median * exp(sigma * normal(s));
}

/* An error spell: ~10 s out of every ~65 s, starting 20 s in. */
static bool in_error_spell(void)
{
    double t = fmod(now_s() - start_time, 65.0);
    return t >= 20.0 && t < 30.0;
}

static void queue_init(queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->ready, NULL);
}

/* Adds an item; false when the queue is full (the item is shed). */
static bool queue_push(queue *q, int item)
{
    pthread_mutex_lock(&q->mu);
    bool ok = q->count < QUEUE_CAP;
    if (ok) {
        q->items[(q->head + q->count++) % QUEUE_CAP] = item;
        pthread_cond_signal(&q->ready);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Takes an item, waiting up to 200 ms; -1 when none came. */
static int queue_pop(queue *q)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 200000000L;
    if (deadline.tv_nsec >= 1000000000L)
        deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && atomic_load(&running))
        if (pthread_cond_timedwait(&q->ready, &q->mu, &deadline) == ETIMEDOUT)
            break;
    int item = -1;
    if (q->count) {
        item = q->items[q->head];
        q->head = (q->head + 1) % QUEUE_CAP;
        q->count--;
    }
    pthread_mutex_unlock(&q->mu);
    return item;
}

static long queue_depth(queue *q)
{
    pthread_mutex_lock(&q->mu);
    long n = (long)q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* ---- the threads ----------------------------------------------------- */

/* Enqueues jobs at a steady rate, with a burst now and then. */
static void *producer(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;
    double next_burst = now_s() + 15 + 20 * uniform(&rng);
    while (atomic_load(&running)) {
        int n = 1;
        if (now_s() >= next_burst) {
            n = 200 + (int)(300 * uniform(&rng));
            next_burst = now_s() + 20 + 20 * uniform(&rng);
        }
        for (int i = 0; i < n; i++) {
            /* Most jobs start with a fetch; the rest are mixed. */
            int kind = uniform(&rng) < 0.4 ? 0 : (int)(uniform(&rng) * KINDS);
            queue_push(&jobs, kind);
        }
        sleep_s(0.025 * (0.5 + uniform(&rng)));
    }
    return NULL;
}

/* Takes jobs and performs them: the actions the dashboard counts. */
static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0xD1B54A32D192ED03ULL + 7;
    bool busy = false;
    while (atomic_load(&running)) {
        int kind = queue_pop(&jobs);
        if (kind < 0) { /* nothing to do for 200 ms */
            if (busy)
                vitals_current_action(client, NULL);
            busy = false;
            continue;
        }
        busy = true;
        const action_kind *k = &kinds[kind];
        bool spell = in_error_spell();
        vitals_current_action(client, k->name);
        double d = lognormal(&rng, k->median_s * (spell ? 2.5 : 1.0), k->sigma);
        if (d > 5.0)
            d = 5.0;
        double t0 = now_s();
        sleep_s(d); /* the work */
        bool ok = uniform(&rng) < (spell ? 0.6 : k->ok_rate);
        vitals_action(client, k->name, now_s() - t0, ok);
        if (ok && k->emits_event && queue_push(&events, kind))
            vitals_event_queued(client, 1);
    }
    vitals_current_action(client, NULL);
    return NULL;
}

/* Processes the events the actions produced. */
static void *event_processor(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x94D049BB133111EBULL + 3;
    while (atomic_load(&running)) {
        /* A downstream stall: 5 s out of every 45 s, starting 35 s in. */
        if (fmod(now_s() - start_time, 45.0) >= 35.0 && fmod(now_s() - start_time, 45.0) < 40.0) {
            sleep_s(0.1);
            continue;
        }
        if (queue_pop(&events) < 0)
            continue;
        double t0 = now_s();
        sleep_s(lognormal(&rng, 0.020, 0.5));
        vitals_event(client, now_s() - t0, uniform(&rng) > (in_error_spell() ? 0.15 : 0.01));
    }
    return NULL;
}

/* Reports the queue depths. */
static void *gauges(void *arg)
{
    (void)arg;
    while (atomic_load(&running)) {
        vitals_queue_depth(client, "action", queue_depth(&jobs));
        vitals_queue_depth(client, "event", queue_depth(&events));
        sleep_s(0.25);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&running, false);
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--host HOST:PORT] [--seconds N]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *host = NULL;
    double seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            char *end;
            seconds = strtod(argv[++i], &end);
            if (*end || seconds <= 0)
                return usage(argv[0]);
        } else
            return usage(argv[0]);
    }

    client = vitals_client_open(host);
    if (!client) {
        int err = errno;
        fprintf(stderr, "demo_app: cannot send to %s: %s\n", host ? host : VITALS_CLIENT_DEFAULT_ADDR,
                err == EINVAL          ? "malformed address (want HOST:PORT or [V6]:PORT)"
                : err == EADDRNOTAVAIL ? "unknown host"
                                       : strerror(err));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("demo_app: sending StatsD to %s (%d workers%s)\n",
           host && *host ? host : VITALS_CLIENT_DEFAULT_ADDR, WORKERS,
           seconds > 0 ? ", timed" : ", Ctrl-C to stop");
    fflush(stdout);

    start_time = now_s();
    queue_init(&jobs);
    queue_init(&events);
    pthread_t threads[WORKERS + 3];
    size_t n = 0;
    bool started = pthread_create(&threads[n++], NULL, producer, (void *)1) == 0;
    for (uintptr_t i = 0; started && i < WORKERS; i++)
        started = pthread_create(&threads[n++], NULL, worker, (void *)(i + 2)) == 0;
    started = started && pthread_create(&threads[n++], NULL, event_processor, (void *)99) == 0;
    started = started && pthread_create(&threads[n++], NULL, gauges, NULL) == 0;
    if (!started) {
        n--;
        fprintf(stderr, "demo_app: cannot start threads\n");
        atomic_store(&running, false);
    }

    while (atomic_load(&running) && (seconds <= 0 || now_s() - start_time < seconds))
        sleep_s(0.1);
    atomic_store(&running, false);
    for (size_t i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    vitals_queue_depth(client, "action", 0);
    vitals_queue_depth(client, "event", 0);
    unsigned long long dropped = vitals_client_dropped(client);
    vitals_client_close(client);
    printf("demo_app: stopped%s\n", dropped ? " (some lines were dropped: is the host running?)" : "");
    return started ? 0 : 1;
}
