/*
 * record.c — what the push plugins do alike with their records; see record.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, strcasecmp under -std=c11 */
#endif

#include "record.h"

#include <string.h>
#include <strings.h>
#include <time.h>

double record_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

enum record_outcome record_outcome_of(const char *ok)
{
    if (!ok)
        return RECORD_OK;
    if (!strcasecmp(ok, "true") || !strcmp(ok, "1") || !strcasecmp(ok, "yes"))
        return RECORD_OK;
    if (!strcasecmp(ok, "false") || !strcmp(ok, "0") || !strcasecmp(ok, "no"))
        return RECORD_FAILED;
    return RECORD_UNKNOWN;
}

const char *record_type_name(vitals_record_type type)
{
    static const char *const name[] = {"ms", "c", "g", "s"};
    return (unsigned)type < 4 ? name[type] : "?";
}

record_timing record_count_timing(vitals_plugin *p, const vitals_record *r, bool *warned,
                                  vitals_metric *total, vitals_metric *failed,
                                  vitals_metric *duration, window *w)
{
    const vitals_host_api *api = vitals_api(p);
    record_timing t = {window_weight(r->sample_rate), r->value / 1000.0, true};
    const char *ok_tag = vitals_record_tag(r, "ok");
    enum record_outcome outcome = record_outcome_of(ok_tag);
    if (outcome == RECORD_UNKNOWN && !*warned) {
        *warned = true;
        api->log(p, VITALS_LOG_WARN, "ok:%s is not true/false, 1/0 or yes/no: counted as a "
                 "failure (logged once)", ok_tag);
    }
    t.ok = outcome == RECORD_OK;

    api->metric_add(total, t.weight);
    if (!t.ok)
        api->metric_add(failed, t.weight);
    api->metric_observe(duration, t.seconds);

    window_add(w, record_now(), t.weight, t.ok ? t.weight : 0, t.seconds * t.weight);
    return t;
}

void record_gauge(vitals_plugin *p, const vitals_record *r, double *level, vitals_metric *metric)
{
    *level = r->delta ? *level + r->value : r->value;
    vitals_api(p)->metric_set(metric, *level);
}

int record_window_init(vitals_plugin *p, window *w, double seconds)
{
    const vitals_host_api *api = vitals_api(p);
    if (!(seconds >= 1 && seconds <= WINDOW_MAX_SECONDS)) {
        api->set_error(p, "window = %g is not within 1..%d seconds", seconds,
                       WINDOW_MAX_SECONDS);
        return -1;
    }
    unsigned whole = (unsigned)seconds;
    if (whole < seconds)
        whole++; /* whole seconds, rounded up */
    if (!window_init(w, whole)) {
        api->set_error(p, "out of memory");
        return -1;
    }
    return 0;
}

int record_register(vitals_plugin *p, const vitals_metric_desc *desc, int count,
                    vitals_metric **metric)
{
    const vitals_host_api *api = vitals_api(p);
    for (int m = 0; m < count; m++) {
        metric[m] = api->metric_register(p, &desc[m]);
        if (!metric[m]) {
            api->set_error(p, "cannot register metric %s (the log says why)", desc[m].id);
            return -1;
        }
    }
    return 0;
}

window_totals record_collect_rate(vitals_plugin *p, window *w, pthread_mutex_t *lock,
                                  vitals_metric *per_minute)
{
    double now = record_now();
    pthread_mutex_lock(lock);
    window_totals t = window_sum(w, now);
    double rate = window_per_minute(w, &t);
    pthread_mutex_unlock(lock);
    vitals_api(p)->metric_set(per_minute, rate);
    return t;
}
