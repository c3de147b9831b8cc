/*
 * window.h — sliding-window totals over the last W seconds, for plugins.
 *
 * "How many actions in the last minute, and how many of them succeeded?"
 * A window keeps one bucket per whole second of the caller's clock (a ring
 * of W buckets, keyed by the second), so adding is O(1), summing is O(W)
 * and the memory is fixed whatever the rate.  At time `now` the window
 * holds the buckets of seconds floor(now) - W + 1 … floor(now): the current
 * (partial) second and the W - 1 before it.  Older buckets are ignored and
 * reused; data added for a second already outside the window is dropped.
 *
 * Pure: no clock, no I/O, no locks.  The caller passes the time (seconds on
 * a monotonic clock) and guards a window shared between threads.  Counts
 * are doubles so that sampled StatsD lines can be scaled by 1 / rate.
 *
 *   window w;
 *   window_init(&w, 60);
 *   window_add(&w, now, 1, ok ? 1 : 0, seconds);        // one action
 *   window_totals t = window_sum(&w, now);
 *   double per_minute = window_per_minute(&w, &t);
 *   double percent;
 *   if (window_success_percent(&t, &percent)) …          // else: no actions
 *   window_free(&w);
 */
#ifndef VITALS_PLUGINS_WINDOW_H
#define VITALS_PLUGINS_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

/* Longest window, in seconds (one hour of 1-second buckets: 96 KiB). */
#define WINDOW_MAX_SECONDS 3600

typedef struct window_bucket {
    int64_t second;    /* floor(t) of what it holds; stale when outside the window */
    double count, ok, sum;
} window_bucket;

typedef struct window {
    unsigned seconds;       /* W */
    window_bucket *buckets; /* W of them, bucket (second mod W) */
} window;

/* What the window holds at one moment. */
typedef struct window_totals {
    double count; /* things that happened (e.g. actions)     */
    double ok;    /* of which succeeded                      */
    double sum;   /* of their values (e.g. durations)        */
} window_totals;

/* Makes an empty window of `seconds` 1-second buckets.  Returns false (and
 * leaves *w empty, safe to free) when seconds is 0 or above
 * WINDOW_MAX_SECONDS, or memory runs out. */
bool window_init(window *w, unsigned seconds);

/* Frees the buckets; *w is then empty (window_free again is harmless). */
void window_free(window *w);

/* Adds `count` things, `ok` of which succeeded, whose values total `sum`,
 * at time t (seconds).  Ignored when its bucket already holds a later
 * second (t is older than the window) or when t is not a finite time
 * within +-2^53 s or a number is not finite. */
void window_add(window *w, double t, double count, double ok, double sum);

/* The totals of the buckets inside the window at time `now`. */
window_totals window_sum(const window *w, double now);

/* The count of `t` as a rate per minute: count * 60 / W. */
double window_per_minute(const window *w, const window_totals *t);

/* The share of successes in percent (100 * ok / count).  False when the
 * window counted nothing, which has no success rate (not 0 %, not 100 %). */
bool window_success_percent(const window_totals *t, double *percent);

/* The mean value (sum / count).  False when the window counted nothing. */
bool window_mean(const window_totals *t, double *mean);

/* How many things one sampled StatsD line stands for: 1 / rate, or 1 when
 * the rate is not in (0, 1] (e.g. 0 for "not given"). */
double window_weight(double sample_rate);

#endif
