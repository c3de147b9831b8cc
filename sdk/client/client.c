/*
 * client.c — the vitals C client: StatsD lines batched per thread and sent
 * over non-blocking, connected UDP sockets (see <vitals/client.h>).
 *
 * Hot path (a vitals_* call): the line is formatted on the stack (line.h),
 * then appended to the calling thread's own buffer under that buffer's
 * spinlock.  The buffer is found through a one-entry thread-local cache
 * (client pointer + client id), so the common call costs: a TLS compare, the
 * formatting, one uncontended atomic exchange, a memcpy, a release store.
 * Threads never share a buffer (nor, up to VC_OWN_FDS threads, a socket),
 * so they never contend with each other, in user space or in the kernel;
 * the only other party that takes a buffer's lock is the flush thread, for
 * a few dozen nanoseconds.
 *
 * A buffer is a ring of VC_SLOTS datagram slots: one open slot being filled,
 * the others full and waiting to be sent.  Whoever sends a buffer's slots
 * sets its `sending` flag first, so there is one sender at a time and a
 * thread's lines stay in order.  Usually that is the owner thread: once
 * VC_SEND_AT slots are full, the call that filled the last one sends them
 * with one sendmmsg(MSG_DONTWAIT) and no lock held (~1 us per datagram of
 * ~34 lines, i.e. ~30 ns per line).  A line is dropped and counted only
 * when every slot is full while another thread is sending them.
 *
 * The flush thread makes a pass every 50 ms.  It does not send the slots of
 * a thread that recorded lines since the last pass (that thread could then
 * find its slots busy): it sets `flush_req`, and the owner's next call
 * sends everything, its partial slot included.  A buffer idle for a whole
 * period, or whose thread exited, the pass drains itself.  So a line waits
 * at most two periods (100 ms).  vitals_client_flush() and close() drain
 * every buffer at once.
 *
 * Lifetimes: buffers are reference counted (the owner thread, the client).
 * A thread's exit (a pthread key destructor) marks its buffers orphaned;
 * the next pass sends what they hold and frees them.  A client's close
 * marks its buffers detached; each thread drops its reference lazily, or at
 * exit.  Either may go first without touching memory the other freed.
 * Buffers are registered by a lock-free push onto the client's list; only
 * passes (serialised by `pass_mu`) unlink from it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The API keeps default visibility when the shared library hides the rest. */
#pragma GCC visibility push(default)
#include <vitals/client.h>
#pragma GCC visibility pop

#include "addr.h"
#include "line.h"

#ifndef VC_SLOTS
#define VC_SLOTS 8           /* datagram slots per thread buffer */
#endif
#ifndef VC_SEND_AT
#define VC_SEND_AT 4         /* full slots that make the owner send them */
#endif
#define VC_THREAD_SLOTS 8    /* clients one thread may use with its own buffer */
/* Pass period: a line waits at most two periods (see vc_drain). */
#define VC_PERIOD_NS 50000000L
#define VC_SPINS 64          /* spins before yielding on a held buffer lock */
#define VC_OWN_FDS 64        /* threads per client that get a socket of their own */

typedef struct vc_buf {
    atomic_flag lock;
    bool sending;            /* a thread is sending the full slots */
    unsigned char first;     /* oldest full slot */
    unsigned char full;      /* full slots; the open one is first + full */
    bool flush_req;          /* the flush thread asks the owner to send all */
    unsigned seq, seen;      /* lines appended; seq at the last pass */
    uint16_t len[VC_SLOTS];
    uint16_t lines[VC_SLOTS];
    atomic_int refs;         /* owner thread + client */
    atomic_bool orphaned;    /* the owner thread exited */
    atomic_bool detached;    /* the client was closed */
    int fd;                  /* this thread's own socket, or -1: the client's */
    struct vc_buf *next;     /* client's list; see the file comment */
    char data[VC_SLOTS][VITALS_CLIENT_MAX_PAYLOAD];
} vc_buf;

struct vitals_client {
    uint64_t id;             /* unique per process, never reused */
    int fd;                  /* shared socket, connected to `peer` */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    atomic_int own_fds;      /* buffers with a socket of their own */
    _Atomic(vc_buf *) bufs;  /* every buffer, pushed lock-free */
    vc_buf *shared;          /* for threads without a free buffer slot */
    atomic_ullong dropped;
    pthread_mutex_t pass_mu; /* one pass at a time; guards unlinking */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake;
    bool stop;               /* guarded by wake_mu */
    pthread_t thread;
};

/* What a thread knows: a buffer per client it used (reclaimed lazily once
 * that client is closed) and a one-entry cache of the last one. */
typedef struct vc_thread {
    struct {
        const vitals_client *c;
        uint64_t id;
        vc_buf *b;
    } slot[VC_THREAD_SLOTS];
} vc_thread;

static atomic_ullong vc_next_id = 1;
static pthread_once_t vc_once = PTHREAD_ONCE_INIT;
static pthread_key_t vc_key;
static bool vc_key_ok;

static _Thread_local const vitals_client *tl_client;
static _Thread_local uint64_t tl_id;
static _Thread_local vc_buf *tl_buf;
static _Thread_local vc_thread *tl_self;

/* ---- buffer locks and lifetime --------------------------------------- */

static inline void vc_lock(vc_buf *b)
{
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire)) {
        if (++spins >= VC_SPINS) {
            sched_yield();
            spins = 0;
        } else {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

static inline void vc_unlock(vc_buf *b)
{
    atomic_flag_clear_explicit(&b->lock, memory_order_release);
}

/* A new buffer with `refs` references; NULL when out of memory. */
static vc_buf *vc_buf_new(int refs)
{
    vc_buf *b = aligned_alloc(64, (sizeof(vc_buf) + 63) & ~(size_t)63);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    atomic_flag_clear(&b->lock);
    atomic_init(&b->refs, refs);
    atomic_init(&b->orphaned, false);
    atomic_init(&b->detached, false);
    b->fd = -1;
    return b;
}

static void vc_buf_unref(vc_buf *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        if (b->fd >= 0)
            close(b->fd);
        free(b);
    }
}

/* ---- sending --------------------------------------------------------- */

/*
 * Called with b locked and b->sending set by the caller: sends the full
 * slots in order, oldest first, with one sendmmsg per round and no lock held
 * during it, for at most `rounds` rounds; then clears `sending` and unlocks.
 * Slots left full go to whoever appends or passes next.
 */
static void vc_send_full_locked(vitals_client *c, vc_buf *b, unsigned rounds)
{
    while (b->full && rounds--) {
        unsigned first = b->first, k = b->full;
        vc_unlock(b);
        /* These slots are full: no one writes them until `first` moves. */
        struct mmsghdr m[VC_SLOTS];
        struct iovec io[VC_SLOTS];
        memset(m, 0, k * sizeof m[0]);
        for (unsigned i = 0; i < k; i++) {
            unsigned s = (first + i) % VC_SLOTS;
            io[i].iov_base = b->data[s];
            io[i].iov_len = b->len[s];
            m[i].msg_hdr.msg_iov = &io[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        int saved = errno;
        for (unsigned i = 0; i < k;) {
            int r = sendmmsg(b->fd >= 0 ? b->fd : c->fd, m + i, k - i,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0) {
                i += (unsigned)r;
            } else if (r < 0 && errno == EINTR) {
                continue;
            } else { /* message i was refused: drop it, go on */
                atomic_fetch_add_explicit(&c->dropped, b->lines[(first + i) % VC_SLOTS],
                                          memory_order_relaxed);
                i++;
            }
        }
        errno = saved;
        vc_lock(b);
        for (unsigned i = 0; i < k; i++) {
            unsigned s = (first + i) % VC_SLOTS;
            b->len[s] = 0;
            b->lines[s] = 0;
        }
        b->first = (unsigned char)((first + k) % VC_SLOTS);
        b->full = (unsigned char)(b->full - k);
    }
    b->sending = false;
    vc_unlock(b);
}

/* ---- the calling thread's buffer ------------------------------------- */

static void vc_thread_exit(void *arg)
{
    vc_thread *t = arg;
    for (size_t i = 0; i < VC_THREAD_SLOTS; i++) {
        vc_buf *b = t->slot[i].b;
        if (b) {
            atomic_store_explicit(&b->orphaned, true, memory_order_release);
            vc_buf_unref(b);
        }
    }
    free(t);
    tl_self = NULL;
    tl_client = NULL;
    tl_buf = NULL;
}

static void vc_key_create(void)
{
    vc_key_ok = pthread_key_create(&vc_key, vc_thread_exit) == 0;
}

/* Pushes b onto c's list; safe against other pushes and a running pass. */
static void vc_register(vitals_client *c, vc_buf *b)
{
    vc_buf *head = atomic_load_explicit(&c->bufs, memory_order_acquire);
    do
        b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&c->bufs, &head, b, memory_order_acq_rel,
                                                  memory_order_acquire));
}

/* The slow path of vc_buf_of: finds or makes this thread's buffer for c,
 * reclaiming slots of closed clients on the way.  Falls back to the
 * client's shared buffer when out of memory or slots. */
static vc_buf *vc_buf_lookup(vitals_client *c)
{
    pthread_once(&vc_once, vc_key_create);
    vc_thread *t = tl_self;
    if (!t) {
        if (!vc_key_ok || !(t = calloc(1, sizeof *t)))
            return c->shared;
        if (pthread_setspecific(vc_key, t) != 0) {
            free(t);
            return c->shared;
        }
        tl_self = t;
    }
    size_t free_slot = VC_THREAD_SLOTS;
    for (size_t i = 0; i < VC_THREAD_SLOTS; i++) {
        vc_buf *b = t->slot[i].b;
        if (b && atomic_load_explicit(&b->detached, memory_order_acquire)) {
            if (tl_buf == b)
                tl_client = NULL, tl_buf = NULL;
            vc_buf_unref(b);
            t->slot[i].b = NULL;
            b = NULL;
        }
        if (b && t->slot[i].c == c && t->slot[i].id == c->id) {
            tl_client = c, tl_id = c->id, tl_buf = b;
            return b;
        }
        if (!b && free_slot == VC_THREAD_SLOTS)
            free_slot = i;
    }
    vc_buf *b;
    if (free_slot == VC_THREAD_SLOTS || !(b = vc_buf_new(2)))
        return c->shared;
    /* A socket of its own spares the threads the kernel's per-socket
     * counters (and the cache-line bouncing on them); past VC_OWN_FDS
     * threads, or if it cannot be had, the client's socket serves. */
    if (atomic_fetch_add_explicit(&c->own_fds, 1, memory_order_relaxed) < VC_OWN_FDS) {
        int saved = errno;
        b->fd = vitals_client_socket(&c->peer, c->peer_len);
        errno = saved;
        if (b->fd < 0)
            atomic_fetch_sub_explicit(&c->own_fds, 1, memory_order_relaxed);
    } else {
        atomic_fetch_sub_explicit(&c->own_fds, 1, memory_order_relaxed);
    }
    vc_register(c, b);
    t->slot[free_slot].c = c;
    t->slot[free_slot].id = c->id;
    t->slot[free_slot].b = b;
    tl_client = c, tl_id = c->id, tl_buf = b;
    return b;
}

static inline vc_buf *vc_buf_of(vitals_client *c)
{
    if (tl_client == c && tl_id == c->id)
        return tl_buf;
    return vc_buf_lookup(c);
}

/* The slot being filled. */
static inline unsigned vc_open_slot(const vc_buf *b)
{
    return (b->first + b->full) % VC_SLOTS;
}

/* With b locked: makes the open slot a full one if it holds lines and a
 * slot is left to open next. */
static inline void vc_close_open(vc_buf *b)
{
    if (b->len[vc_open_slot(b)] && b->full < VC_SLOTS - 1)
        b->full++;
}

/*
 * Appends one formatted line (n <= VL_MAX_LINE) to this thread's buffer.
 * Then, unless someone is sending this buffer already, sends its full slots
 * once VC_SEND_AT of them wait, or everything when the flush thread asked.
 * The line is dropped (and counted) only when every slot is full and
 * another thread is sending them.
 */
static void vc_put(vitals_client *c, const char *line, size_t n)
{
    vc_buf *b = vc_buf_of(c);
    vc_lock(b);
    unsigned o = vc_open_slot(b);
    if (b->len[o] + n > VITALS_CLIENT_MAX_PAYLOAD) {
        if (b->full == VC_SLOTS - 1) {
            if (b->sending) {
                vc_unlock(b);
                atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
                return;
            }
            b->sending = true;
            vc_send_full_locked(c, b, 1);
            vc_lock(b); /* only the shared buffer can have refilled since */
            o = vc_open_slot(b);
        }
        if (b->len[o] + n > VITALS_CLIENT_MAX_PAYLOAD) {
            if (b->full == VC_SLOTS - 1) {
                vc_unlock(b);
                atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
                return;
            }
            b->full++;
            o = vc_open_slot(b);
        }
    }
    memcpy(b->data[o] + b->len[o], line, n);
    b->len[o] = (uint16_t)(b->len[o] + n);
    b->lines[o]++;
    b->seq++;
    if (!b->sending && (b->full >= VC_SEND_AT || b->flush_req)) {
        if (b->flush_req) {
            b->flush_req = false;
            vc_close_open(b);
        }
        b->sending = true;
        vc_send_full_locked(c, b, 1);
        return;
    }
    vc_unlock(b);
}

/* ---- the flush pass -------------------------------------------------- */

/*
 * One buffer of a pass.  A buffer whose owner appended since the last pass
 * is not sent from here (its owner would have to wait for these sends):
 * the owner is asked to send everything at its next call instead.  A buffer
 * idle since the last pass, of an exited thread, or any buffer when `force`
 * is set, has its open slot closed and its slots sent here, unless someone
 * is sending them already.  Returns true when b is left empty and idle.
 */
static bool vc_drain(vitals_client *c, vc_buf *b, bool force)
{
    bool gone = atomic_load_explicit(&b->orphaned, memory_order_acquire);
    vc_lock(b);
    if (!force && !gone && b->seq != b->seen) {
        b->seen = b->seq;
        b->flush_req = b->full || b->len[vc_open_slot(b)];
        vc_unlock(b);
        return false;
    }
    /* Two rounds: with every slot full, the open one closes only after. */
    for (int round = 0; round < 2 && !b->sending; round++) {
        vc_close_open(b);
        if (!b->full)
            break;
        b->sending = true;
        vc_send_full_locked(c, b, 1);
        vc_lock(b);
    }
    b->seen = b->seq;
    bool empty = !b->sending && !b->full && !b->len[vc_open_slot(b)];
    vc_unlock(b);
    return empty && gone;
}

/* One pass over every buffer (see vc_drain); frees the drained buffers of
 * exited threads. */
static void vc_pass(vitals_client *c, bool force)
{
    pthread_mutex_lock(&c->pass_mu);
    vc_buf *prev = NULL;
    vc_buf *b = atomic_load_explicit(&c->bufs, memory_order_acquire);
    while (b) {
        vc_buf *next = b->next;
        if (vc_drain(c, b, force)) { /* drained, and its thread is gone */
            if (prev) {
                prev->next = next;
            } else {
                vc_buf *expect = b;
                if (!atomic_compare_exchange_strong_explicit(&c->bufs, &expect, next,
                                                             memory_order_acq_rel,
                                                             memory_order_acquire)) {
                    /* Threads pushed in front of b: find its new predecessor. */
                    vc_buf *p = expect;
                    while (p->next != b)
                        p = p->next;
                    p->next = next;
                }
            }
            if (b->fd >= 0)
                atomic_fetch_sub_explicit(&c->own_fds, 1, memory_order_relaxed);
            vc_buf_unref(b);
        } else {
            prev = b;
        }
        b = next;
    }
    pthread_mutex_unlock(&c->pass_mu);
}

static void vc_deadline_add(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static void *vc_flusher(void *arg)
{
    vitals_client *c = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&c->wake_mu);
    while (!c->stop) {
        vc_deadline_add(&next, VC_PERIOD_NS);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->wake_mu, &next) != ETIMEDOUT)
            ;
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->wake_mu);
        vc_pass(c, false);
        /* After a stall (suspended process), restart the cadence from now. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1)
            next = now;
        pthread_mutex_lock(&c->wake_mu);
    }
    pthread_mutex_unlock(&c->wake_mu);
    return NULL;
}

/* ---- opening --------------------------------------------------------- */

vitals_client *vitals_client_open(const char *addr)
{
    char host[256], port[6];
    if (!addr || !*addr)
        addr = VITALS_CLIENT_DEFAULT_ADDR;
    if (vitals_client_parse_addr(addr, host, sizeof host, port) != 0) {
        errno = EINVAL;
        return NULL;
    }
    vitals_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = atomic_fetch_add(&vc_next_id, 1);
    atomic_init(&c->dropped, 0);
    c->shared = vc_buf_new(1);
    if (!c->shared) {
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&c->bufs, c->shared);
    c->fd = vitals_client_connect(host, port, &c->peer, &c->peer_len);
    if (c->fd < 0) {
        int err = errno;
        free(c->shared);
        free(c);
        errno = err;
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->wake_mu, NULL);
    pthread_mutex_init(&c->pass_mu, NULL);

    /* The flush thread takes no signals: they belong to the application. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, vc_flusher, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->wake_mu);
        pthread_mutex_destroy(&c->pass_mu);
        close(c->fd);
        free(c->shared);
        free(c);
        errno = rc;
        return NULL;
    }
    pthread_setname_np(c->thread, "vitals-client");
    return c;
}

/* ---- the API --------------------------------------------------------- */

void vitals_action(vitals_client *c, const char *name, double seconds, bool ok)
{
    if (!c)
        return;
    char line[VL_MAX_LINE];
    vc_put(c, line, vl_action(line, name, seconds, ok));
}

void vitals_event(vitals_client *c, double seconds, bool ok)
{
    if (!c)
        return;
    char line[VL_MAX_LINE];
    vc_put(c, line, vl_event(line, seconds, ok));
}

void vitals_event_queued(vitals_client *c, long n)
{
    if (!c || n <= 0)
        return;
    char line[VL_MAX_LINE];
    vc_put(c, line, vl_event_queued(line, n));
}

void vitals_queue_depth(vitals_client *c, const char *which, long n)
{
    if (!c)
        return;
    char line[VL_MAX_LINE];
    vc_put(c, line, vl_queue(line, which, n));
}

void vitals_current_action(vitals_client *c, const char *name_or_NULL)
{
    if (!c)
        return;
    char line[VL_MAX_LINE];
    vc_put(c, line, vl_current(line, name_or_NULL));
}

void vitals_client_flush(vitals_client *c)
{
    if (c)
        vc_pass(c, true);
}

unsigned long long vitals_client_dropped(const vitals_client *c)
{
    return c ? atomic_load_explicit(&c->dropped, memory_order_relaxed) : 0;
}

void vitals_client_close(vitals_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->wake_mu);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->wake_mu);
    pthread_join(c->thread, NULL);
    vc_pass(c, true);
    vc_buf *b = atomic_load_explicit(&c->bufs, memory_order_acquire);
    while (b) {
        vc_buf *next = b->next;
        atomic_store_explicit(&b->detached, true, memory_order_release);
        vc_buf_unref(b);
        b = next;
    }
    if (tl_client == c)
        tl_client = NULL, tl_buf = NULL;
    close(c->fd);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->wake_mu);
    pthread_mutex_destroy(&c->pass_mu);
    free(c);
}
