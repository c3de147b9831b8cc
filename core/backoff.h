/*
 * backoff.h — when to restart something that keeps failing.  Pure.
 *
 * The first failure waits `initial` seconds, each quick failure after it
 * doubles the wait up to `max`, and a run that lasted `reset_after`
 * seconds or more counts as healthy: the next failure starts again at
 * `initial` (collectd's read-callback backoff, capped at minutes).
 */
#ifndef VITALS_BACKOFF_H
#define VITALS_BACKOFF_H

typedef struct vitals_backoff {
    double initial, max, reset_after;
    double current; /* the last delay handed out; 0 before the first failure */
} vitals_backoff;

/* The isolated plugins' policy: 1 s doubling to 60 s, reset after 60 s. */
#define VITALS_BACKOFF_INITIAL 1.0
#define VITALS_BACKOFF_MAX 60.0
#define VITALS_BACKOFF_RESET 60.0

void vitals_backoff_init(vitals_backoff *b, double initial, double max, double reset_after);

/* A failure after a run of `ran` seconds: returns the seconds to wait
 * before the next start. */
double vitals_backoff_failure(vitals_backoff *b, double ran);

#endif
