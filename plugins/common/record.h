/*
 * record.h — what the push plugins (action, event) do alike with the StatsD
 * records the host hands them, and with the window behind their rates.
 *
 * Both read "<name>:<ms>|ms|#ok:<bool>" timing records, a "<name>.queue|g"
 * depth gauge and a `window` config key, and both set a rate per minute from
 * a window (window.h) each tick; these functions are that shared part.  C
 * and libc only, through the SDK header (vitals/plugin.h, no library): each
 * plugin compiles its own copy, as it does window.c.
 *
 * Threads: none of these locks anything but record_collect_rate(); the
 * caller holds its state's mutex around the others, as on_record() does.
 *
 *   if (record_window_init(p, &s->recent, s->window_seconds) != 0) return -1;
 *   record_timing t = record_count_timing(p, r, &s->warned_outcome, total,
 *                                         failed, duration, &s->recent);
 *   record_gauge(p, r, &s->queue, s->metric[QUEUE]);
 *   window_totals w = record_collect_rate(p, &s->recent, &s->lock, per_minute);
 */
#ifndef VITALS_PLUGINS_RECORD_H
#define VITALS_PLUGINS_RECORD_H

#include <vitals/plugin.h>

#include <pthread.h>
#include <stdbool.h>

#include "window.h"

/* Seconds on CLOCK_MONOTONIC: the clock the plugins' windows are kept in. */
double record_now(void);

/* What an `ok` tag says. */
enum record_outcome { RECORD_OK, RECORD_FAILED, RECORD_UNKNOWN };

/* Reads the value of an `ok` tag: true/false, 1/0 or yes/no (the words in
 * any case); NULL (no tag) means it succeeded; anything else is
 * RECORD_UNKNOWN. */
enum record_outcome record_outcome_of(const char *ok);

/* The StatsD type of a record as a line writes it ("ms", "c", "g", "s"),
 * "?" for none of those; for log lines. */
const char *record_type_name(vitals_record_type type);

/* What one timing record stands for. */
typedef struct record_timing {
    double weight;  /* things it counts as: 1 / its sample rate */
    double seconds; /* its duration (the record's value is in ms) */
    bool ok;        /* its `ok` tag said it succeeded */
} record_timing;

/*
 * Counts timing record `r` ("<name>:<ms>|ms|#ok:<bool>"): adds its weight to
 * `total`, and to `failed` when it did not succeed, observes its duration
 * once in `duration` (a sampled line is one observation) and adds it to
 * window `w` at record_now().  An `ok` value that is not true/false counts
 * as a failure and is logged (a warning) once: when *warned is false, which
 * it then sets.  Returns what it counted.
 */
record_timing record_count_timing(vitals_plugin *p, const vitals_record *r, bool *warned,
                                  vitals_metric *total, vitals_metric *failed,
                                  vitals_metric *duration, window *w);

/* Applies gauge record `r` to *level (a delta "+n"/"-n" changes it, a plain
 * value replaces it) and sets `metric` to the new level. */
void record_gauge(vitals_plugin *p, const vitals_record *r, double *level, vitals_metric *metric);

/* Makes `w` a window of the `window` config key's `seconds`, rounded up to
 * whole seconds.  Returns 0, or -1 after set_error() when seconds is not
 * within 1..WINDOW_MAX_SECONDS or memory runs out (w is then safe to free). */
int record_window_init(vitals_plugin *p, window *w, double seconds);

/* Registers the `count` metrics of `desc` into metric[0..count).  Returns 0,
 * or -1 after set_error() naming the first metric the host refused (the
 * ones before it stay registered: the host keeps them). */
int record_register(vitals_plugin *p, const vitals_metric_desc *desc, int count,
                    vitals_metric **metric);

/* One tick's read of window `w`: its totals now, taken under `lock` (the
 * clock read before it), and `per_minute` set to their rate per minute
 * after it.  Returns the totals, for more metrics of the same moment. */
window_totals record_collect_rate(vitals_plugin *p, window *w, pthread_mutex_t *lock,
                                  vitals_metric *per_minute);

#endif
