/*
 * vitals/client.h — the C client an application links to report what it
 * does (actions, events, queue depths, the current action) to a vitals host.
 *
 * The client speaks StatsD over UDP to the host's ingest port (default
 * 127.0.0.1:8125).  The lines it writes are exactly those the host's action
 * and event plugins consume (see docs/ingest.md):
 *
 *     action:<ms>|ms|#name:<action>,ok:<true|false>    vitals_action
 *     event:<ms>|ms|#ok:<true|false>                   vitals_event
 *     event.queued:<n>|c                               vitals_event_queued
 *     <which>.queue:<n>|g                              vitals_queue_depth
 *     action.current:<name>|s   (cleared: "-")         vitals_current_action
 *
 * Guarantees (every function below):
 *   - NULL-safe: a NULL client makes every call a no-op, so an application
 *     may keep going when vitals_client_open() failed.
 *   - Never blocks the caller: a call formats one line into a buffer owned
 *     by the calling thread (~30 ns).  When that buffer holds a few full
 *     datagrams, the call that filled the last one hands them to the kernel
 *     with one non-blocking sendmmsg (~60 ns per call in all, amortised, on
 *     loopback).  Nothing ever waits for the host, for the network, or on a
 *     lock held for longer than a memcpy.  A thread's first call also
 *     allocates its buffer and opens its socket (no waiting either).
 *   - Thread-safe: any number of threads may use one client at once; each
 *     thread writes to its own buffer, so threads do not contend.
 *   - Bounded: lines are batched into datagrams of at most 1432 bytes of
 *     payload; a background thread sends partial batches every 100 ms at
 *     the latest.  When the host is down or the socket buffer is full the
 *     data is dropped and counted (vitals_client_dropped), never queued.
 *   - Order: lines of one thread arrive in the order they were recorded
 *     (UDP may still lose them); lines of different threads may interleave.
 *   - Names (action names, queue names) are sanitised: '|', ',', '#', ':',
 *     '\n' and '\r' become '_'; names longer than 100 bytes are cut on a
 *     UTF-8 character boundary; a NULL or empty name becomes "unnamed".
 *   - Durations are given in seconds and sent in milliseconds with at most
 *     3 decimals and no exponent; negative or NaN durations are sent as 0.
 *
 * Resources: one background thread and one UDP socket per client, plus,
 * for each thread that records through it, a ~12 KiB buffer and (for the
 * first 64 such threads at a time) a socket of its own, so that threads do
 * not contend in the kernel either.  A thread's buffer outlives the thread
 * until its last lines are sent (within 100 ms).
 *
 * A client must not be used after (or while) vitals_client_close() runs.
 * The functions are not async-signal-safe (do not call them from a signal
 * handler), and a client does not survive fork(): a child opens its own.
 *
 * This header is stand-alone (it includes only <stdbool.h> and <stddef.h>)
 * and usable from C and C++.  Link with -lvitals-client -pthread.
 */
#ifndef VITALS_CLIENT_H
#define VITALS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most payload bytes per datagram (fits a 1500-byte MTU with headers). */
#define VITALS_CLIENT_MAX_PAYLOAD 1432
/* Longest action or queue name sent; longer names are cut. */
#define VITALS_CLIENT_MAX_NAME 100
/* The address used when vitals_client_open() is given NULL or "". */
#define VITALS_CLIENT_DEFAULT_ADDR "127.0.0.1:8125"

typedef struct vitals_client vitals_client;

/*
 * Opens a client sending to `addr`: "host:port", "host" (port 8125),
 * "[v6]:port", or a bare IPv6 literal (port 8125); host is an IPv4/IPv6
 * literal or a name resolved once, here (the only call that may block).
 * NULL or "" means "127.0.0.1:8125".  Starts the client's flush thread.
 * Returns NULL with errno set: EINVAL for a malformed address or port,
 * EADDRNOTAVAIL when the name does not resolve, or the errno of the
 * failing socket/thread/allocation call.
 */
vitals_client *vitals_client_open(const char *addr);

/* Records one action `name` that took `seconds` and succeeded or not. */
void vitals_action(vitals_client *c, const char *name, double seconds, bool ok);

/* Records one processed event that took `seconds` and succeeded or not. */
void vitals_event(vitals_client *c, double seconds, bool ok);

/* Counts `n` events enqueued (n <= 0 records nothing). */
void vitals_event_queued(vitals_client *c, long n);

/* Sets the depth of queue `which` ("action", "event" or any other name) to
 * `n` (negative values are sent as 0). */
void vitals_queue_depth(vitals_client *c, const char *which, long n);

/* Sets the action the application is performing now; NULL or "" clears it
 * (sent as "-"). */
void vitals_current_action(vitals_client *c, const char *name_or_NULL);

/* Sends every line recorded so far, by any thread, now, with non-blocking
 * sends from the calling thread. */
void vitals_client_flush(vitals_client *c);

/* Lines the client could not hand to the kernel (host down, socket buffer
 * full) since it was opened.  Lines lost later, in the network or in the
 * host's socket buffer, are not seen by the client.  NULL gives 0. */
unsigned long long vitals_client_dropped(const vitals_client *c);

/* Flushes, stops and joins the flush thread, closes the socket and frees
 * the client.  NULL is a no-op.  No other thread may be using `c`. */
void vitals_client_close(vitals_client *c);

#ifdef __cplusplus
}
#endif

#endif
