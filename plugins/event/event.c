/*
 * event.c — the events an application queues and processes: how many, how
 * many failed, how long processing took and how deep the queue is.
 *
 * A push collector, like action.c: applications report StatsD lines over
 * UDP or HTTP (docs/ingest.md) and the host hands this plugin every record
 * named "event" or "event.<something>":
 *
 *   event:<ms>|ms|#ok:<true|false>   one event processed, and how long it took
 *   event.queued:<n>|c               n events enqueued
 *   event.queue:<n>|g  (+n / -n)     the event queue's depth
 *
 * `ok` reads true/false, 1/0 or yes/no in any case; without it the event
 * succeeded; any other value counts as a failure and is logged once.  A
 * line sampled with |@0.1 stands for 10 events (or 10 times n) in every
 * count; its duration is one observation.  A negative event.queued, or a
 * record of another name or type, is ignored and logged once.
 *
 *   [plugin:event]
 *   window = 60
 *
 * Threads: on_record() runs on the host's ingest thread, collect() on the
 * sampler thread, possibly at the same moment; one mutex guards the state.
 * on_record() holds it throughout, so that a record arriving while init()
 * is still registering metrics, or after init() failed, waits and is then
 * ignored; collect() holds it to read the window.  What it shares with
 * action.c in reading records and the window is plugins/common/record.h.
 */
#include <vitals/plugin.h>

#include <pthread.h>
#include <string.h>

#include "record.h"
#include "window.h"

/* The metrics, in the order the dashboard shows them. */
enum event_metric {
    EVENT_QUEUE,
    EVENT_PER_MINUTE,
    EVENT_DURATION,
    EVENT_PROCESSED,
    EVENT_QUEUED,
    EVENT_FAILED,
    EVENT_METRIC_COUNT
};

struct event_state {
    /* [plugin:event], filled by the host before init */
    double window_seconds;

    pthread_mutex_t lock; /* guards everything below */
    bool ready;           /* init() succeeded: records count */
    vitals_metric *metric[EVENT_METRIC_COUNT];
    window recent;        /* events processed in the last `window` seconds */
    double queue;
    bool warned_outcome, warned_record;
};

static const vitals_config_entry event_config[] = {
    {"window", VITALS_CFG_DOUBLE, "60", offsetof(struct event_state, window_seconds),
     "Seconds of processed events behind the rate per minute (1..3600, rounded up to "
     "whole seconds)"},
    {0}};

static const vitals_metric_desc event_metric_desc[EVENT_METRIC_COUNT] = {
    [EVENT_QUEUE] = {
        .id = "event.queue", .title = "Event queue", .unit = "count", .kind = VITALS_GAUGE,
        .description = "Events waiting, as the application last reported",
        .chart = "queues", .chart_title = "Queue depths", .style = VITALS_BAR,
        .has_min = true, .min = 0, .precision = 0, .priority = 44, .card = true},
    [EVENT_PER_MINUTE] = {
        .id = "event.per_minute", .title = "Events/min", .unit = "per_minute",
        .kind = VITALS_GAUGE, .description = "Events processed in the window, scaled to one minute",
        .chart = "event.time", .chart_title = "Event processing", .style = VITALS_LINE,
        .axis = VITALS_AXIS_LEFT, .has_min = true, .min = 0, .precision = 0, .priority = 50},
    [EVENT_DURATION] = {
        .id = "event.duration", .title = "Processing time", .unit = "seconds",
        .kind = VITALS_HISTOGRAM, .description = "How long processing an event took",
        .chart = "event.time", .chart_title = "Event processing", .style = VITALS_LINE,
        .axis = VITALS_AXIS_RIGHT, .has_min = true, .min = 0, .precision = 3, .priority = 51,
        .stream_every = 5}, /* a 60 s window: a tick moves it little, and it is 35 bytes */
    [EVENT_PROCESSED] = {
        .id = "event.processed", .title = "Processed", .unit = "count", .kind = VITALS_COUNTER,
        .description = "Events processed since the host started",
        .chart = "event.flow", .chart_title = "Events queued & processed", .style = VITALS_LINE,
        .has_min = true, .min = 0, .precision = 0, .priority = 52},
    [EVENT_QUEUED] = {
        .id = "event.queued", .title = "Queued", .unit = "count", .kind = VITALS_COUNTER,
        .description = "Events enqueued since the host started",
        .chart = "event.flow", .chart_title = "Events queued & processed", .style = VITALS_LINE,
        .has_min = true, .min = 0, .precision = 0, .priority = 53},
    [EVENT_FAILED] = {
        .id = "event.failed", .title = "Failed events", .unit = "count", .kind = VITALS_COUNTER,
        .description = "Events whose processing failed, since the host started",
        .chart = "errors", .chart_title = "Errors", .style = VITALS_AREA,
        .has_min = true, .min = 0, .precision = 0, .priority = 54},
};

/* ---- records ------------------------------------------------------------ */

/* Every record named "event" or "event.*" (the host's ingest thread). */
static void event_on_record(vitals_plugin *p, const vitals_record *r)
{
    struct event_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    pthread_mutex_lock(&s->lock);
    if (!s->ready) {
        /* init() has not finished, or failed */
    } else if (!strcmp(r->name, "event") && r->type == VITALS_RECORD_TIMING) {
        /* event:<ms>|ms|#ok:<bool> */
        record_count_timing(p, r, &s->warned_outcome, s->metric[EVENT_PROCESSED],
                            s->metric[EVENT_FAILED], s->metric[EVENT_DURATION], &s->recent);
    } else if (!strcmp(r->name, "event.queued") && r->type == VITALS_RECORD_COUNTER &&
               r->value >= 0) {
        api->metric_add(s->metric[EVENT_QUEUED], r->value * window_weight(r->sample_rate));
    } else if (!strcmp(r->name, "event.queue") && r->type == VITALS_RECORD_GAUGE) {
        record_gauge(p, r, &s->queue, s->metric[EVENT_QUEUE]);
    } else if (!s->warned_record) {
        s->warned_record = true;
        api->log(p, VITALS_LOG_WARN, "ignoring %s:%g|%s: this plugin reads event|ms, "
                 "event.queued|c (n >= 0) and event.queue|g (logged once)", r->name, r->value,
                 record_type_name(r->type));
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- the plugin --------------------------------------------------------- */

/*
 * Checks the config, subscribes to "event" and registers the metrics.
 * Subscribing comes first, so that with ingest turned off the plugin stops
 * before the dashboard gets cards that could never show anything.  Returns
 * 0, or -1 after set_error() on a bad config, no memory, ingest turned off
 * or a refused metric (records that reach a failed plugin are ignored).
 */
static int event_init(vitals_plugin *p)
{
    struct event_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    if (record_window_init(p, &s->recent, s->window_seconds) != 0)
        return -1;
    pthread_mutex_init(&s->lock, NULL);
    if (api->subscribe(p, "event", event_on_record) != 0) {
        pthread_mutex_destroy(&s->lock);
        window_free(&s->recent);
        api->set_error(p, "ingest is turned off ([ingest] enabled = false): no events to show");
        return -1;
    }

    pthread_mutex_lock(&s->lock);
    if (record_register(p, event_metric_desc, EVENT_METRIC_COUNT, s->metric) != 0) {
        window_free(&s->recent); /* subscribed for good: `ready` stays false */
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    api->metric_set(s->metric[EVENT_PROCESSED], 0);
    api->metric_set(s->metric[EVENT_QUEUED], 0);
    api->metric_set(s->metric[EVENT_FAILED], 0);
    s->ready = true;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* One tick: the rate of processed events over the window. */
static void event_collect(vitals_plugin *p)
{
    struct event_state *s = vitals_state(p);
    record_collect_rate(p, &s->recent, &s->lock, s->metric[EVENT_PER_MINUTE]);
}

/* The host stops ingest before it shuts plugins down. */
static void event_shutdown(vitals_plugin *p)
{
    struct event_state *s = vitals_state(p);
    pthread_mutex_destroy(&s->lock);
    window_free(&s->recent);
}

VITALS_PLUGIN_DEFINE(event, "1.0", "Events an application reports: queued, processed, failed, "
                     "processing time and queue depth", event_config, struct event_state,
                     event_init, event_collect, event_shutdown)
