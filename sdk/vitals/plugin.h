/*
 * vitals/plugin.h — the plugin ABI of the vitals host, version 1.
 *
 * A collector plugin is a shared object that exports exactly one symbol,
 * `vitals_plugin_entry`, written for you by VITALS_PLUGIN_DEFINE().  That
 * function returns a constant vitals_plugin_info describing the plugin: its
 * name, its config schema, the size of its private state and its three
 * lifecycle callbacks.  Everything a plugin may ask of the host goes through
 * the function table `vitals_api(p)`; plugins never link against the daemon.
 *
 * Lifecycle (init, collect and shutdown never overlap: collect runs on a
 * worker thread of the plugin's own, init and shutdown on the sampler's or
 * the main thread; record callbacks run on the ingest thread and may
 * overlap collect, see vitals_record_fn):
 *   1. the host checks abi_major/abi_minor/struct_size and the name;
 *   2. it allocates `state_size` zeroed bytes, fills them from the
 *      [plugin:NAME] section of the INI file through `config`, and calls
 *      init(); init registers metric descriptors and returns 0, or calls
 *      vitals_api(p)->set_error() and returns non-zero to be skipped;
 *   3. collect() is called once per tick; it sets the values of its metrics
 *      (one that runs past its deadline leaves gaps, docs/plugin-sdk.md);
 *   4. shutdown() is called once when the host stops (may be NULL).
 *
 * This header is stand-alone: it includes only <stddef.h>, <stdint.h> and
 * <stdbool.h>, so a collector compiles with it alone.
 */
#ifndef VITALS_PLUGIN_H
#define VITALS_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A plugin loads when its major equals the host's and its minor is not newer. */
#define VITALS_PLUGIN_ABI_MAJOR 1
#define VITALS_PLUGIN_ABI_MINOR 3

/* The one symbol a plugin exports. */
#define VITALS_PLUGIN_ENTRY_SYMBOL "vitals_plugin_entry"

/* ---- metric descriptors ------------------------------------------------ */

typedef enum vitals_metric_kind {
    VITALS_GAUGE = 0,     /* a value that goes up and down                    */
    VITALS_COUNTER = 1,   /* monotonic total; dashboards chart its rate       */
    VITALS_HISTOGRAM = 2, /* observations; the host summarises the window     */
    VITALS_TEXT = 3       /* a short string, e.g. the current action          */
} vitals_metric_kind;

typedef enum vitals_chart_style {
    VITALS_LINE = 0,
    VITALS_AREA = 1,
    VITALS_BAR = 2
} vitals_chart_style;

typedef enum vitals_chart_axis {
    VITALS_AXIS_LEFT = 0,
    VITALS_AXIS_RIGHT = 1
} vitals_chart_axis;

/*
 * What a metric is and how to draw it.  Only `id`, `title` and `kind` are
 * required; every string is copied by the host at registration.
 *
 * `id` is stable, dotted, [a-z0-9_.-] and unique across all plugins
 * (by convention "<plugin>.<name>").  `unit` is a base unit: "percent",
 * "bytes", "seconds", "ratio", "count", "MiB" … or "" for none.
 * Metrics with the same `chart` share one chart; a NULL chart means "no
 * chart".  `min`/`max` are axis hints, used only when has_min/has_max is set.
 * `card` shows the metric as a headline number; warn/crit (when has_warn /
 * has_crit) colour it, rising past the threshold unless `lower_is_worse`.
 * Fields are only ever appended, each group marked with the ABI minor that
 * added it; the host never reads past what the plugin's minor had.
 */
typedef struct vitals_metric_desc {
    const char *id;
    const char *title;
    const char *unit;
    vitals_metric_kind kind;
    const char *description;

    const char *chart;       /* group id shared by the metrics of one chart */
    const char *chart_title; /* title of that chart (first one wins)        */
    vitals_chart_style style;
    vitals_chart_axis axis;
    bool has_min, has_max;
    double min, max;
    int precision;           /* digits after the point; 0 means integers     */
    int priority;            /* lower sorts first                           */

    bool card;
    bool has_warn, has_crit;
    double warn, crit;
    bool lower_is_worse;

    /* -- since 1.2: the host reads these only from plugins built for 1.2+ -- */

    /* Metrics that are one series split by labels (one per action name, say)
     * share a `family` id and differ by `labels`, "key=value[,key=value]"
     * (keys [a-z_][a-z0-9_]*, values without ',' '=' '"' or newlines).
     * Prometheus shows them as one metric with labels; the dashboard ignores
     * both.  NULL: the metric is its own family. */
    const char *family;
    const char *labels;

    /* -- since 1.3 -- */

    /* For a value that moves slowly (a 60 s window's percentiles, a name
     * that rarely changes): the dashboards' stream (the WebSocket `sample`)
     * carries it in one sample out of `stream_every` (2..60) and the page
     * keeps its last value in between, which saves those bytes in every
     * sample sent to every client.  Samples are staggered so that slow
     * metrics do not all arrive together.  History, the JSON API and
     * Prometheus still get every tick.  0 or 1: every sample.  Not for a
     * COUNTER (refused): its chart is the difference between consecutive
     * samples. */
    int stream_every;
} vitals_metric_desc;

/* ---- configuration schema ---------------------------------------------- */

typedef enum vitals_config_type {
    VITALS_CFG_END = 0, /* terminates a schema array ({0}) */
    VITALS_CFG_BOOL,    /* bool   */
    VITALS_CFG_INT,     /* int64_t */
    VITALS_CFG_DOUBLE,  /* double */
    VITALS_CFG_STRING   /* const char *, owned by the host, NULL if unset */
} vitals_config_type;

/*
 * One key of a plugin's [plugin:NAME] section.  The host parses the value (or
 * `default_value` when the key is absent), checks it and stores it at
 * `offset` in the plugin's state before init() runs.  Keys not in the schema
 * are reported with their file and line.  `enabled` is reserved for the host.
 */
typedef struct vitals_config_entry {
    const char *key;
    vitals_config_type type;
    const char *default_value; /* text, parsed like a value from the file */
    size_t offset;             /* offsetof(struct my_state, field)        */
    const char *help;
} vitals_config_entry;

/* ---- ingest records (since 1.1) ---------------------------------------- */

/*
 * What applications report — StatsD/DogStatsD lines over UDP or JSON over
 * HTTP (docs/ingest.md) — reaches the plugins that subscribed to the
 * record's name as one parsed record.  Every string is NUL-terminated and
 * valid only during the callback: copy what you keep.
 */
typedef enum vitals_record_type {
    VITALS_RECORD_TIMING = 0,  /* "|ms": value in milliseconds           */
    VITALS_RECORD_COUNTER = 1, /* "|c": value to add                      */
    VITALS_RECORD_GAUGE = 2,   /* "|g": value to set (or add: `delta`)    */
    VITALS_RECORD_SET = 3      /* "|s": `text` is the member, value 0     */
} vitals_record_type;

typedef struct vitals_tag {
    const char *key;
    const char *value; /* "" for a tag without ':' */
} vitals_tag;

typedef struct vitals_record {
    const char *name;
    vitals_record_type type;
    double value;
    const char *text;          /* SET: the member; NULL otherwise       */
    double sample_rate;        /* 0 < rate <= 1; 1 when not given       */
    bool delta;                /* GAUGE written "+N" / "-N": add it     */
    size_t tag_count;
    const vitals_tag *tags;
} vitals_record;

/* The value of tag `key`, or NULL when the record has no such tag. */
static inline const char *vitals_record_tag(const vitals_record *r, const char *key)
{
    for (size_t i = 0; i < r->tag_count; i++) {
        const char *a = r->tags[i].key, *b = key;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b)
            return r->tags[i].value;
    }
    return NULL;
}

/* ---- the host API ------------------------------------------------------ */

typedef struct vitals_plugin vitals_plugin;
typedef struct vitals_metric vitals_metric; /* opaque handle */

/*
 * Receives one record.  Runs on the host's ingest thread, so it may run at
 * the same time as the plugin's collect(): guard what both touch.  The host
 * never runs two record callbacks of one plugin at once.  Keep it short:
 * every record of every application passes through here.
 */
typedef void (*vitals_record_fn)(vitals_plugin *p, const vitals_record *record);

typedef enum vitals_log_level {
    VITALS_LOG_ERROR = 0,
    VITALS_LOG_WARN = 1,
    VITALS_LOG_INFO = 2,
    VITALS_LOG_DEBUG = 3
} vitals_log_level;

/*
 * The function table a plugin receives.  APPEND ONLY: entries are never
 * removed or reordered; each group says which ABI minor added it.  A plugin
 * that needs an entry newer than 1.0 checks `abi_minor` first (a plugin
 * built with this header needs a host of at least its own minor anyway).
 */
typedef struct vitals_host_api {
    uint32_t abi_major;
    uint32_t abi_minor;
    size_t struct_size;

    /* -- since 1.0 -- */

    /* Registers a metric; returns NULL (and logs why) on an invalid or
     * duplicate descriptor.  May be called from init() or later. */
    vitals_metric *(*metric_register)(vitals_plugin *p, const vitals_metric_desc *desc);
    /* GAUGE and COUNTER: the current value (a counter's running total). */
    void (*metric_set)(vitals_metric *m, double value);
    /* COUNTER: adds to the running total. */
    void (*metric_add)(vitals_metric *m, double delta);
    /* HISTOGRAM: records one observation. */
    void (*metric_observe)(vitals_metric *m, double value);
    /* TEXT: copies the string (NULL clears it). */
    void (*metric_set_text)(vitals_metric *m, const char *text);
    /* Marks the metric as having no value this tick (a gap in its chart). */
    void (*metric_clear)(vitals_metric *m);

    /* One line in the host's log, prefixed with the plugin's name. */
    void (*log)(vitals_plugin *p, vitals_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* Why init() failed; the host prints it when it skips the plugin. */
    void (*set_error)(vitals_plugin *p, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;
    /* The host's tick interval in seconds. */
    double (*interval)(vitals_plugin *p);
    /* The host's own process id (a sensible default for "the watched process"). */
    long (*host_pid)(vitals_plugin *p);

    /* -- since 1.1 -- */

    /* Delivers every record whose name is `name` or starts with `name`
     * followed by '.' (so "action" also gets "action.queue").  Call it from
     * init().  Returns 0, or -1 if the host has ingest turned off. */
    int (*subscribe)(vitals_plugin *p, const char *name, vitals_record_fn on_record);
} vitals_host_api;

/*
 * The handle a plugin's callbacks receive.  The host owns it; a plugin reads
 * it only through vitals_api() and vitals_state().
 */
struct vitals_plugin {
    const vitals_host_api *api;
    void *state; /* state_size zeroed bytes, filled from the config */
};

static inline const vitals_host_api *vitals_api(vitals_plugin *p) { return p->api; }
static inline void *vitals_state(vitals_plugin *p) { return p->state; }

/* ---- the plugin descriptor --------------------------------------------- */

typedef struct vitals_plugin_info {
    /* These three come first, always, so any host can read them. */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t struct_size;

    const char *name;        /* must equal the file name without ".so"   */
    const char *version;     /* the plugin's own version, free text      */
    const char *description; /* one line                                 */

    const vitals_config_entry *config; /* schema terminated by {0}, or NULL */
    size_t state_size;                 /* bytes of private state           */

    int (*init)(vitals_plugin *p);         /* required; 0 on success        */
    void (*collect)(vitals_plugin *p);     /* may be NULL (push-only plugin) */
    void (*shutdown)(vitals_plugin *p);    /* may be NULL                  */
} vitals_plugin_info;

typedef const vitals_plugin_info *(*vitals_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define VITALS_EXPORT __attribute__((visibility("default")))
#else
#define VITALS_EXPORT
#endif

/*
 * Defines the plugin's one exported symbol.  `state_type` is the plugin's
 * private state struct (the config schema's offsets point into it).
 *
 *   VITALS_PLUGIN_DEFINE(loadavg, "1.0", "Load average", loadavg_config,
 *                        struct loadavg, loadavg_init, loadavg_collect, NULL);
 */
#define VITALS_PLUGIN_DEFINE(name_, version_, description_, config_, state_type,   \
                             init_, collect_, shutdown_)                            \
    VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void);              \
    VITALS_EXPORT const vitals_plugin_info *vitals_plugin_entry(void)               \
    {                                                                               \
        static const vitals_plugin_info info = {                                    \
            VITALS_PLUGIN_ABI_MAJOR, VITALS_PLUGIN_ABI_MINOR,                       \
            (uint32_t)sizeof(vitals_plugin_info),                                   \
            #name_, version_, description_, config_, sizeof(state_type),            \
            init_, collect_, shutdown_};                                            \
        return &info;                                                               \
    }

#ifdef __cplusplus
}
#endif

#endif /* VITALS_PLUGIN_H */
