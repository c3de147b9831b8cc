/*
 * registry.h — every metric the host knows, its latest value and history.
 *
 * Plugins register descriptors (copied in) and set values through the
 * plugin API; each tick the sampler calls vitals_registry_snapshot(), which
 * freezes the current values into an immutable, reference-counted frame and
 * appends them to each metric's history ring.  Readers (HTTP, WebSocket,
 * Prometheus) work on frames and descriptor sets without holding the lock.
 *
 * The registry knows nothing of HTTP, sockets or JSON encoding.
 */
#ifndef VITALS_REGISTRY_H
#define VITALS_REGISTRY_H

#include <glib.h>
#include <stdint.h>
#include <vitals/plugin.h>

#define VITALS_REGISTRY_ERROR (vitals_registry_error_quark())
GQuark vitals_registry_error_quark(void);

/* Seconds of observations a histogram summarises. */
#define VITALS_HISTOGRAM_WINDOW 60.0

/* The largest stream_every a descriptor may ask for: a slow metric reaches
 * dashboards at least once a minute at 1 Hz. */
#define VITALS_STREAM_EVERY_MAX 60

/* A descriptor as the host keeps it: owned copies of every string, and
 * stream_every at least 1. */
typedef struct vitals_metric_info {
    char *id;
    char *plugin;
    vitals_metric_desc desc;  /* string fields point at owned copies */
    unsigned index;           /* position in descriptor sets and frames */
} vitals_metric_info;

/* An immutable list of descriptors, in frame order: registration order,
 * except that the metrics with stream_every > 1 come after all the others
 * (so that a client reading only every-sample metrics finds each at its
 * descriptor index in every sample; docs/protocol.md). */
typedef struct vitals_desc_set {
    gint refs;
    guint generation;         /* bumps whenever the set changes */
    guint count;
    vitals_metric_info **items;
} vitals_desc_set;

typedef struct vitals_hist_summary {
    double count, mean, p50, p95, p99; /* over the last window */
    double total_count, total_sum;     /* since the metric was registered */
} vitals_hist_summary;

typedef enum vitals_value_type {
    VITALS_VALUE_NONE = 0,    /* no value this tick: a gap */
    VITALS_VALUE_NUMBER,
    VITALS_VALUE_TEXT,
    VITALS_VALUE_SUMMARY
} vitals_value_type;

typedef struct vitals_value {
    vitals_value_type type;
    double number;
    char *text;               /* VITALS_VALUE_TEXT, owned by the frame */
    vitals_hist_summary summary;
} vitals_value;

/* One tick: the values of every metric of `descs`, in its order. */
typedef struct vitals_frame {
    gint refs;
    guint64 seq;
    double ts;                /* Unix time, seconds */
    vitals_desc_set *descs;   /* a reference */
    vitals_value *values;     /* descs->count entries */
} vitals_frame;

typedef struct vitals_registry vitals_registry;

vitals_registry *vitals_registry_new(unsigned history);
void vitals_registry_free(vitals_registry *reg);

/*
 * Adds a metric for `plugin`.  Fails (NULL, *error set) on a missing id or
 * title, an id outside [a-z0-9_.-] or longer than 128 bytes, a duplicate id,
 * an unknown kind/style/axis, or a stream_every outside 0..60 (or above 1
 * for a counter).  Safe from any thread.
 */
vitals_metric *vitals_registry_add(vitals_registry *reg, const char *plugin,
                                   const vitals_metric_desc *desc, GError **error);

/* How many bytes of a vitals_metric_desc a plugin built for ABI minor
 * `abi_minor` has: fields are only appended, and the host must never read
 * past the end of an older plugin's shorter struct. */
size_t vitals_metric_desc_size(uint32_t abi_minor);

/* Removes every metric of `plugin` (its file was removed, or it failed
 * after registering some): they leave the descriptor set, their history
 * goes, and readers holding older sets or frames keep valid copies.  The
 * plugin must make no more calls with their handles.  Returns how many. */
guint vitals_registry_retire(vitals_registry *reg, const char *plugin);

/* Value setters behind the plugin API; safe from any thread. */
void vitals_metric_set(vitals_metric *m, double value);
void vitals_metric_add(vitals_metric *m, double delta);
void vitals_metric_observe(vitals_metric *m, double value);
void vitals_metric_set_text(vitals_metric *m, const char *text);
void vitals_metric_clear(vitals_metric *m);
const vitals_metric_info *vitals_metric_get_info(const vitals_metric *m);

/* Freezes the current values as frame `seq+1` at time ts, appends them to
 * the history and returns a new reference to the frame. */
vitals_frame *vitals_registry_snapshot(vitals_registry *reg, double ts);

/* New references to the latest frame (NULL before the first tick) and to
 * the current descriptor set. */
vitals_frame *vitals_registry_latest(vitals_registry *reg);
vitals_desc_set *vitals_registry_descriptors(vitals_registry *reg);
unsigned vitals_registry_history_capacity(const vitals_registry *reg);

/*
 * Copies history: up to `max_samples` newest frames no older than `since`
 * (Unix time; 0 = all).  When metric_index is < 0, copies all metrics of
 * *descs_out; otherwise just that metric.  The caller frees with
 * vitals_history_free().
 */
typedef struct vitals_history {
    guint count;              /* samples */
    double *ts;               /* count timestamps, oldest first */
    guint64 first_seq;
    vitals_desc_set *descs;   /* a reference */
    guint metrics;            /* columns */
    int metric_index;         /* -1 when all */
    vitals_value *values;     /* metrics * count, column-major: [m * count + i] */
} vitals_history;

vitals_history *vitals_registry_history(vitals_registry *reg, int metric_index, double since,
                                        guint max_samples);
/*
 * One metric's history, found by id under the same lock as the copy: an
 * index from vitals_registry_find() may name another metric by the time it
 * is used, since a registration can shift indexes (slow metrics stay last).
 * NULL when no metric has that id.
 */
vitals_history *vitals_registry_history_of(vitals_registry *reg, const char *id, double since,
                                           guint max_samples);
void vitals_history_free(vitals_history *h);

/* Finds a metric's index in the current set by id; -1 if none. */
int vitals_registry_find(vitals_registry *reg, const char *id);

vitals_frame *vitals_frame_ref(vitals_frame *f);
void vitals_frame_unref(vitals_frame *f);
vitals_desc_set *vitals_desc_set_ref(vitals_desc_set *s);
void vitals_desc_set_unref(vitals_desc_set *s);

/* Names used on the wire. */
const char *vitals_kind_name(vitals_metric_kind kind);
const char *vitals_style_name(vitals_chart_style style);

#endif
