/*
 * action.c — what an application does: its actions, how many failed, how
 * long they took, its action queue and the action it is performing now.
 *
 * A push collector: it reads nothing itself.  Applications report StatsD
 * lines over UDP or HTTP (docs/ingest.md) and the host hands this plugin
 * every record named "action" or "action.<something>":
 *
 *   action:<ms>|ms|#name:<name>,ok:<true|false>   one action, its duration
 *   action.queue:<n>|g     (+n / -n: a change)     the action queue's depth
 *   action.current:<name>|s    ("-": nothing)      what it is doing now
 *
 * `ok` reads true/false, 1/0 or yes/no in any case; without it the action
 * succeeded.  Any other value (ok:maybe) counts as a FAILURE, and the log
 * says so once: an application that does not clearly report success should
 * show up, not hide in the success rate.  A line sampled with |@0.1 stands
 * for 10 actions in every count; its duration is one observation (a sample
 * is representative of the durations, not ten of them).  A record of
 * another name or type (action.queue|c …) is ignored and logged once.
 *
 * Counts and the duration histogram are kept by the host; this plugin keeps
 * a sliding window (plugins/common/window.h) for the rate per minute and
 * the success rate, which collect() sets each tick; what it shares with
 * event.c in reading records and the window is plugins/common/record.h.  The first `top_names`
 * action names get metrics of their own, registered when the name first
 * arrives; later names are counted together as "other".
 *
 *   [plugin:action]
 *   top_names = 8
 *   window = 60
 *
 * Threads: on_record() runs on the host's ingest thread, collect() on the
 * sampler thread, possibly at the same moment; one mutex guards the state.
 * on_record() holds it throughout (an uncontended lock costs ~20 ns), so
 * that a record arriving while init() is still registering metrics, or
 * after init() failed, waits and is then ignored.  collect() holds it to
 * read the window.  The host's setters are thread-safe themselves.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup under -std=c11 */
#endif

#include <vitals/plugin.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "window.h"

/* Most names with metrics of their own (top_names), the longest part of a
 * metric id a name becomes ("action.by_name.<key>.duration" <= 128), and the
 * longest label value a name becomes (the host takes labels up to 512). */
#define ACTION_MAX_NAMES 100
#define ACTION_KEY_MAX 64
#define ACTION_LABEL_MAX 200

/* The duration histograms summarise 60 s, so one tick moves them little,
 * yet each is ~35 bytes of every sample: dashboards get them in one sample
 * out of 5.  The counts stay in every sample (their charts are rates). */
#define ACTION_STREAM_EVERY 5

/* The metrics registered by init, in the order the dashboard shows them. */
enum action_metric {
    ACTION_PER_MINUTE,
    ACTION_SUCCESS_RATE,
    ACTION_ERRORS,
    ACTION_QUEUE,
    ACTION_CURRENT,
    ACTION_TOTAL,
    ACTION_DURATION,
    ACTION_METRIC_COUNT
};

/* One action name with metrics of its own. */
struct action_name {
    char *name;                      /* as the application sent it       */
    char key[ACTION_KEY_MAX + 16];   /* its part of the ids (+ "_2" …)    */
    char label[ACTION_LABEL_MAX + 24]; /* "name=<label value>" (+ "_2" …) */
    vitals_metric *count, *duration; /* NULL when the host refused them  */
};

struct action_state {
    /* [plugin:action], filled by the host before init */
    int64_t top_names;
    double window_seconds;

    pthread_mutex_t lock; /* guards everything below */
    bool ready;           /* init() succeeded: records count */
    vitals_metric *metric[ACTION_METRIC_COUNT];
    window recent;        /* actions of the last `window` seconds */
    double queue;
    struct action_name *names; /* top_names of them, name_count used */
    size_t name_count;
    vitals_metric *other;      /* action.by_name.other.count, once needed */
    bool other_refused, warned_outcome, warned_record;
};

static const vitals_config_entry action_config[] = {
    {"top_names", VITALS_CFG_INT, "8", offsetof(struct action_state, top_names),
     "How many distinct action names get metrics of their own (0..100); the rest count "
     "as \"other\""},
    {"window", VITALS_CFG_DOUBLE, "60", offsetof(struct action_state, window_seconds),
     "Seconds of actions behind the rate per minute and the success rate (1..3600, "
     "rounded up to whole seconds)"},
    {0}};

static const vitals_metric_desc action_metric_desc[ACTION_METRIC_COUNT] = {
    [ACTION_PER_MINUTE] = {
        .id = "action.per_minute", .title = "Actions/min", .unit = "per_minute",
        .kind = VITALS_GAUGE, .description = "Actions in the window, scaled to one minute",
        .chart = "action.rate", .chart_title = "Actions", .style = VITALS_LINE,
        .axis = VITALS_AXIS_LEFT, .has_min = true, .min = 0, .precision = 0, .priority = 40,
        .card = true},
    [ACTION_SUCCESS_RATE] = {
        .id = "action.success_rate", .title = "Success rate", .unit = "percent",
        .kind = VITALS_GAUGE,
        .description = "Share of the actions in the window that succeeded; none without actions",
        .chart = "action.success", .chart_title = "Success rate", .style = VITALS_LINE,
        .has_min = true, .min = 0, .has_max = true, .max = 100, .precision = 1, .priority = 41,
        .card = true, .has_warn = true, .warn = 95, .has_crit = true, .crit = 80,
        .lower_is_worse = true},
    [ACTION_ERRORS] = {
        .id = "action.errors", .title = "Errors", .unit = "count", .kind = VITALS_COUNTER,
        .description = "Failed actions since the host started",
        .chart = "errors", .chart_title = "Errors", .style = VITALS_AREA,
        .has_min = true, .min = 0, .precision = 0, .priority = 42, .card = true},
    [ACTION_QUEUE] = {
        .id = "action.queue", .title = "Action queue", .unit = "count", .kind = VITALS_GAUGE,
        .description = "Actions waiting, as the application last reported",
        .chart = "queues", .chart_title = "Queue depths", .style = VITALS_BAR,
        .has_min = true, .min = 0, .precision = 0, .priority = 43, .card = true},
    [ACTION_CURRENT] = {
        .id = "action.current", .title = "Current action", .unit = "", .kind = VITALS_TEXT,
        .description = "The action the application is performing now", .priority = 45,
        .card = true},
    [ACTION_TOTAL] = {
        .id = "action.total", .title = "Actions", .unit = "count", .kind = VITALS_COUNTER,
        .description = "Actions since the host started", .precision = 0, .priority = 46},
    [ACTION_DURATION] = {
        .id = "action.duration", .title = "Duration", .unit = "seconds",
        .kind = VITALS_HISTOGRAM, .description = "How long actions took",
        .chart = "action.rate", .chart_title = "Actions", .style = VITALS_LINE,
        .axis = VITALS_AXIS_RIGHT, .has_min = true, .min = 0, .precision = 3, .priority = 47,
        .stream_every = ACTION_STREAM_EVERY},
};

/* ---- helpers ------------------------------------------------------------ */

/* The id part for an action name: lower-case ASCII letters and digits, every
 * run of other bytes one '_', none at either end, at most ACTION_KEY_MAX
 * bytes; "unnamed" when nothing is left ("Check-out 2" -> "check_out_2"). */
static void name_key(const char *name, char *key)
{
    size_t len = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && len < ACTION_KEY_MAX; c++) {
        char out = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : (char)*c;
        bool keep = (out >= 'a' && out <= 'z') || (out >= '0' && out <= '9');
        if (keep)
            key[len++] = out;
        else if (len > 0 && key[len - 1] != '_')
            key[len++] = '_';
    }
    while (len > 0 && key[len - 1] == '_')
        len--;
    key[len] = '\0';
    if (len == 0)
        strcpy(key, "unnamed");
}

/* Length of the valid UTF-8 sequence at `s`, or 0 when none starts there
 * (the host, like Prometheus, takes only valid UTF-8 in labels). */
static size_t utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* no overlong forms, surrogates or code points past U+10FFFF */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* The label value for an action name: the name itself, with every byte a
 * label value cannot hold (',', '=', '"', '\\', control characters,
 * invalid UTF-8) as '_', cut to ACTION_LABEL_MAX bytes on a character
 * boundary ("a,b" -> "a_b"; "Check-Out" stays "Check-Out"). */
static void name_label(const char *name, char *value)
{
    size_t len = 0;
    const unsigned char *c = (const unsigned char *)name;
    while (*c) {
        size_t n = utf8_sequence(c);
        bool bad = n == 0 || *c < 0x20 || *c == 0x7f || *c == ',' || *c == '=' || *c == '"' ||
                   *c == '\\';
        if (bad)
            n = 1;
        if (len + n > ACTION_LABEL_MAX)
            break;
        if (bad)
            value[len++] = '_';
        else
            for (size_t i = 0; i < n; i++)
                value[len++] = (char)c[i];
        c += n;
    }
    value[len] = '\0';
}

/* True when no name so far has the label `label` ("name=..."), and it is
 * not the "other" series' label. */
static bool label_is_free(const struct action_state *s, const char *label)
{
    if (!strcmp(label, "name=other"))
        return false;
    for (size_t i = 0; i < s->name_count; i++)
        if (!strcmp(s->names[i].label, label))
            return false;
    return true;
}

/* True when no name so far has `key`, and it is not the "other" series. */
static bool key_is_free(const struct action_state *s, const char *key)
{
    if (!strcmp(key, "other"))
        return false;
    for (size_t i = 0; i < s->name_count; i++)
        if (!strcmp(s->names[i].key, key))
            return false;
    return true;
}

/*
 * Registers action.by_name.<key>.count and .duration for a new name.  Each
 * is one member of a family labelled by name (family
 * "action.by_name.count" / "action.by_name.duration", labels
 * "name=<label value>"), which Prometheus shows as one metric with a `name`
 * label; so the description, the family's HELP there, is the same for
 * every name.
 */
static void register_name(vitals_plugin *p, struct action_name *n)
{
    const vitals_host_api *api = vitals_api(p);
    char id[128], title[160];
    snprintf(id, sizeof id, "action.by_name.%s.count", n->key);
    n->count = api->metric_register(p, &(vitals_metric_desc){
        .id = id, .title = n->name, .unit = "count", .kind = VITALS_COUNTER,
        .description = "Actions since the host started, by action name",
        .chart = "action.by_name", .chart_title = "Actions by name",
        .style = VITALS_LINE, .has_min = true, .min = 0, .precision = 0, .priority = 60,
        .family = "action.by_name.count", .labels = n->label});
    snprintf(id, sizeof id, "action.by_name.%s.duration", n->key);
    snprintf(title, sizeof title, "%.140s duration", n->name);
    n->duration = api->metric_register(p, &(vitals_metric_desc){
        .id = id, .title = title, .unit = "seconds", .kind = VITALS_HISTOGRAM,
        .description = "How long actions took, by action name",
        .chart = "action.by_name", .chart_title = "Actions by name",
        .style = VITALS_LINE, .axis = VITALS_AXIS_RIGHT, .has_min = true, .min = 0,
        .precision = 3, .priority = 60, .family = "action.by_name.duration",
        .labels = n->label, .stream_every = ACTION_STREAM_EVERY});
    if (n->count)
        api->metric_set(n->count, 0);
}

/* The metrics of action `name`: found, or added while fewer than top_names
 * names have been seen; NULL when the name must count as "other". */
static struct action_name *find_name(vitals_plugin *p, struct action_state *s, const char *name)
{
    for (size_t i = 0; i < s->name_count; i++)
        if (!strcmp(s->names[i].name, name))
            return &s->names[i];
    if (s->name_count == (size_t)s->top_names)
        return NULL;
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    struct action_name *n = &s->names[s->name_count];
    *n = (struct action_name){.name = copy};
    char key[ACTION_KEY_MAX + 1];
    name_key(name, key);
    snprintf(n->key, sizeof n->key, "%s", key);
    for (unsigned suffix = 2; !key_is_free(s, n->key); suffix++) /* "a-b" and "a_b" */
        snprintf(n->key, sizeof n->key, "%s_%u", key, suffix);
    char value[ACTION_LABEL_MAX + 1];
    name_label(name, value);
    snprintf(n->label, sizeof n->label, "name=%s", value);
    for (unsigned suffix = 2; !label_is_free(s, n->label); suffix++) /* "a,b" and "a_b" */
        snprintf(n->label, sizeof n->label, "name=%s_%u", value, suffix);
    s->name_count++;
    register_name(p, n);
    return n;
}

/* action.by_name.other.count, registered the first time a name is left out. */
static vitals_metric *other_count(vitals_plugin *p, struct action_state *s)
{
    if (!s->other && !s->other_refused) {
        const vitals_host_api *api = vitals_api(p);
        s->other = api->metric_register(p, &(vitals_metric_desc){
            .id = "action.by_name.other.count", .title = "Other actions", .unit = "count",
            .kind = VITALS_COUNTER, .description = "Actions of names beyond top_names",
            .chart = "action.by_name", .chart_title = "Actions by name", .style = VITALS_LINE,
            .has_min = true, .min = 0, .precision = 0, .priority = 69,
            .family = "action.by_name.count", .labels = "name=other"});
        s->other_refused = !s->other;
        if (s->other)
            api->metric_set(s->other, 0);
        api->log(p, VITALS_LOG_INFO, "more than top_names = %" PRId64 " action names; "
                 "the others count as \"other\"", s->top_names);
    }
    return s->other;
}

/* ---- records ------------------------------------------------------------ */

/* action:<ms>|ms|#name:<name>,ok:<bool> */
static void on_action(vitals_plugin *p, struct action_state *s, const vitals_record *r)
{
    const vitals_host_api *api = vitals_api(p);
    record_timing t = record_count_timing(p, r, &s->warned_outcome, s->metric[ACTION_TOTAL],
                                          s->metric[ACTION_ERRORS], s->metric[ACTION_DURATION],
                                          &s->recent);

    const char *name = vitals_record_tag(r, "name");
    struct action_name *n = find_name(p, s, name && *name ? name : "unnamed");
    if (n && n->count) {
        api->metric_add(n->count, t.weight);
        api->metric_observe(n->duration, t.seconds);
    } else {
        vitals_metric *other = other_count(p, s);
        if (other)
            api->metric_add(other, t.weight);
    }
}

/* Every record named "action" or "action.*" (the host's ingest thread). */
static void action_on_record(vitals_plugin *p, const vitals_record *r)
{
    struct action_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    pthread_mutex_lock(&s->lock);
    if (!s->ready) {
        /* init() has not finished, or failed */
    } else if (!strcmp(r->name, "action") && r->type == VITALS_RECORD_TIMING) {
        on_action(p, s, r);
    } else if (!strcmp(r->name, "action.queue") && r->type == VITALS_RECORD_GAUGE) {
        record_gauge(p, r, &s->queue, s->metric[ACTION_QUEUE]);
    } else if (!strcmp(r->name, "action.current") && r->type == VITALS_RECORD_SET) {
        bool none = !r->text || !*r->text || !strcmp(r->text, "-");
        api->metric_set_text(s->metric[ACTION_CURRENT], none ? NULL : r->text);
    } else if (!s->warned_record) {
        s->warned_record = true;
        api->log(p, VITALS_LOG_WARN, "ignoring %s|%s: this plugin reads action|ms, "
                 "action.queue|g and action.current|s (logged once)", r->name,
                 record_type_name(r->type));
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- the plugin --------------------------------------------------------- */

/* Frees what init made; safe on a half-made state. */
static void action_release(struct action_state *s)
{
    for (size_t i = 0; i < s->name_count; i++)
        free(s->names[i].name);
    free(s->names);
    s->names = NULL;
    s->name_count = 0;
    window_free(&s->recent);
}

/*
 * Checks the config, subscribes to "action" and registers the metrics.
 * Subscribing comes first, so that with ingest turned off the plugin stops
 * before the dashboard gets cards that could never show anything.  Returns
 * 0, or -1 after set_error() on a bad config, no memory, ingest turned off
 * or a refused metric (records that reach a failed plugin are ignored).
 */
static int action_init(vitals_plugin *p)
{
    struct action_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    if (s->top_names < 0 || s->top_names > ACTION_MAX_NAMES) {
        api->set_error(p, "top_names = %" PRId64 " is not within 0..%d", s->top_names,
                       ACTION_MAX_NAMES);
        return -1;
    }
    if (record_window_init(p, &s->recent, s->window_seconds) != 0)
        return -1;
    s->names = calloc(s->top_names ? (size_t)s->top_names : 1, sizeof *s->names);
    if (!s->names) {
        action_release(s);
        api->set_error(p, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    if (api->subscribe(p, "action", action_on_record) != 0) {
        pthread_mutex_destroy(&s->lock);
        action_release(s);
        api->set_error(p, "ingest is turned off ([ingest] enabled = false): no actions to show");
        return -1;
    }

    pthread_mutex_lock(&s->lock);
    if (record_register(p, action_metric_desc, ACTION_METRIC_COUNT, s->metric) != 0) {
        action_release(s); /* subscribed for good: `ready` stays false */
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    api->metric_set(s->metric[ACTION_TOTAL], 0);
    api->metric_set(s->metric[ACTION_ERRORS], 0);
    s->ready = true;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* One tick: the rate and the success rate over the window. */
static void action_collect(vitals_plugin *p)
{
    struct action_state *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    window_totals t = record_collect_rate(p, &s->recent, &s->lock, s->metric[ACTION_PER_MINUTE]);
    double percent;
    if (window_success_percent(&t, &percent))
        api->metric_set(s->metric[ACTION_SUCCESS_RATE], percent);
    else
        api->metric_clear(s->metric[ACTION_SUCCESS_RATE]); /* no actions: no rate */
}

/* The host stops ingest before it shuts plugins down. */
static void action_shutdown(vitals_plugin *p)
{
    struct action_state *s = vitals_state(p);
    pthread_mutex_destroy(&s->lock);
    action_release(s);
}

VITALS_PLUGIN_DEFINE(action, "1.0", "Actions an application reports: rate, errors, duration, "
                     "queue and current action", action_config, struct action_state,
                     action_init, action_collect, action_shutdown)
