/*
 * registry_json.c — JSON encodings of descriptors, frames and history.
 *
 * Shapes are specified in docs/protocol.md.  Values that are whole numbers
 * are written as JSON integers ("5", not "5.0"), others with 15 significant
 * digits, so the JSON API round-trips to what the plugin set.
 *
 * What goes to dashboards (the WebSocket `sample`, and the history in
 * `hello`) is rounded for the eye: one digit past the descriptor's
 * `precision`, and never fewer than three significant digits.  That halves
 * a busy sample ("0.0971" where the API says "0.0970545045372051") and the
 * hello that the page parses before it draws.  Counters stay exact, since
 * the dashboard charts the difference between two running totals.
 *
 * Protocol 2 trims the stream further (docs/protocol.md, "Slow metrics"):
 * a metric with stream_every E > 1 is carried only in the samples where
 * (seq + its descriptor index) % E == 0, and its hello column only holds
 * those samples' values; the page keeps the last value in between.  The
 * index in the rule staggers slow metrics over the samples instead of
 * sending them all in one fat sample every E ticks.  The stream's times
 * are whole milliseconds, finer than any chart needs; the sample, the
 * hello and the WebSocket `metrics` round them alike, so the page sees one
 * time for one tick whichever message brought it.
 */
#include "registry_json.h"

#include <math.h>
#include <string.h>

static json_t *number(double v)
{
    if (!isfinite(v))
        return json_null();
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* `v` rounded for a dashboard (see the top of this file); unchanged when it
 * has too few digits to round or is too large for 15 significant ones. */
static double round_for_eye(double v, int precision)
{
    if (!isfinite(v) || v == 0 || fabs(v) >= 1e15)
        return v;
    int magnitude = (int)floor(log10(fabs(v))); /* 0.0971 → -2, 437.5 → 2 */
    int decimals = precision < 0 ? 1 : (precision > 12 ? 13 : precision + 1);
    if (decimals < 2 - magnitude)
        decimals = 2 - magnitude; /* three significant digits */
    if (decimals + magnitude >= 14)
        return v; /* rounding would not shorten it */
    double scale = pow(10, decimals);
    return round(v * scale) / scale;
}

/* A number as a dashboard gets it: counters exact, the rest rounded. */
static json_t *number_for_eye(double v, const vitals_metric_desc *d)
{
    return number(d->kind == VITALS_COUNTER ? v : round_for_eye(v, d->precision));
}

/* vitals_json_value() for a dashboard: numbers and the parts of a summary
 * rounded (its count is a whole number already). */
static json_t *value_for_eye(const vitals_value *v, const vitals_metric_desc *d)
{
    if (v->type == VITALS_VALUE_NUMBER)
        return number_for_eye(v->number, d);
    if (v->type != VITALS_VALUE_SUMMARY)
        return vitals_json_value(v);
    const vitals_hist_summary *s = &v->summary;
    return json_pack("[o, o, o, o, o]", number(s->count), number_for_eye(s->mean, d),
                     number_for_eye(s->p50, d), number_for_eye(s->p95, d),
                     number_for_eye(s->p99, d));
}

/* A time as the stream gives it: whole milliseconds. */
static json_t *stream_ts(double ts)
{
    return number(round(ts * 1000) / 1000);
}

gboolean vitals_stream_carries(const vitals_metric_desc *d, guint index, guint64 seq)
{
    guint64 every = d->stream_every > 1 ? (guint64)d->stream_every : 1;
    return (seq + index) % every == 0;
}

json_t *vitals_json_descriptor(const vitals_metric_info *info)
{
    const vitals_metric_desc *d = &info->desc;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(info->id));
    json_object_set_new(o, "plugin", json_string(info->plugin));
    json_object_set_new(o, "title", json_string(d->title));
    json_object_set_new(o, "unit", json_string(d->unit ? d->unit : ""));
    json_object_set_new(o, "kind", json_string(vitals_kind_name(d->kind)));
    if (d->description)
        json_object_set_new(o, "description", json_string(d->description));
    if (d->chart) {
        json_object_set_new(o, "chart", json_string(d->chart));
        json_object_set_new(o, "chart_title", json_string(d->chart_title ? d->chart_title : d->title));
        json_object_set_new(o, "style", json_string(vitals_style_name(d->style)));
        json_object_set_new(o, "axis", json_string(d->axis == VITALS_AXIS_RIGHT ? "right" : "left"));
    }
    if (d->has_min)
        json_object_set_new(o, "min", number(d->min));
    if (d->has_max)
        json_object_set_new(o, "max", number(d->max));
    json_object_set_new(o, "precision", json_integer(d->precision));
    json_object_set_new(o, "priority", json_integer(d->priority));
    json_object_set_new(o, "card", json_boolean(d->card));
    if (d->has_warn)
        json_object_set_new(o, "warn", number(d->warn));
    if (d->has_crit)
        json_object_set_new(o, "crit", number(d->crit));
    if (d->has_warn || d->has_crit)
        json_object_set_new(o, "lower_is_worse", json_boolean(d->lower_is_worse));
    if (d->family)
        json_object_set_new(o, "family", json_string(d->family));
    if (d->labels)
        json_object_set_new(o, "labels", json_string(d->labels));
    if (d->stream_every > 1)
        json_object_set_new(o, "stream_every", json_integer(d->stream_every));
    return o;
}

json_t *vitals_json_descriptors(const vitals_desc_set *set)
{
    json_t *a = json_array();
    for (guint i = 0; i < set->count; i++)
        json_array_append_new(a, vitals_json_descriptor(set->items[i]));
    return a;
}

json_t *vitals_json_value(const vitals_value *v)
{
    switch (v->type) {
    case VITALS_VALUE_NUMBER:
        return number(v->number);
    case VITALS_VALUE_TEXT:
        return json_string(v->text);
    case VITALS_VALUE_SUMMARY: {
        const vitals_hist_summary *s = &v->summary;
        json_t *a = json_array();
        json_array_append_new(a, number(s->count));
        json_array_append_new(a, number(s->mean));
        json_array_append_new(a, number(s->p50));
        json_array_append_new(a, number(s->p95));
        json_array_append_new(a, number(s->p99));
        return a;
    }
    default:
        return json_null();
    }
}

json_t *vitals_json_sample(const vitals_frame *frame)
{
    json_t *values = json_array();
    for (guint i = 0; i < frame->descs->count; i++) {
        const vitals_metric_desc *d = &frame->descs->items[i]->desc;
        if (vitals_stream_carries(d, i, frame->seq))
            json_array_append_new(values, value_for_eye(&frame->values[i], d));
    }
    return json_pack("{s:s, s:I, s:o, s:o}", "type", "sample", "seq", (json_int_t)frame->seq,
                     "ts", stream_ts(frame->ts), "values", values);
}

/* The key of a metric inside its plugin's object: the id without "<plugin>.". */
static const char *short_key(const vitals_metric_info *info)
{
    size_t n = strlen(info->plugin);
    if (strncmp(info->id, info->plugin, n) == 0 && info->id[n] == '.' && info->id[n + 1])
        return info->id + n + 1;
    return info->id;
}

json_t *vitals_json_metrics(const vitals_frame *frame)
{
    json_t *plugins = json_object();
    if (!frame)
        return json_pack("{s:n, s:n, s:o}", "seq", "ts", "plugins", plugins);
    for (guint i = 0; i < frame->descs->count; i++) {
        const vitals_metric_info *info = frame->descs->items[i];
        json_t *group = json_object_get(plugins, info->plugin);
        if (!group) {
            group = json_object();
            json_object_set_new(plugins, info->plugin, group);
        }
        json_object_set_new(group, short_key(info), vitals_json_value(&frame->values[i]));
    }
    return json_pack("{s:I, s:o, s:o}", "seq", (json_int_t)frame->seq, "ts", number(frame->ts),
                     "plugins", plugins);
}

/* The times of a history copy: as kept for the API, in whole milliseconds
 * for the stream. */
static json_t *history_ts(const vitals_history *h, gboolean stream)
{
    json_t *ts = json_array();
    for (guint i = 0; i < h->count; i++)
        json_array_append_new(ts, stream ? stream_ts(h->ts[i]) : number(h->ts[i]));
    return ts;
}

/* The values of one metric, oldest first, as the API gives them. */
static json_t *history_column(const vitals_history *h, guint column)
{
    json_t *values = json_array();
    for (guint i = 0; i < h->count; i++)
        json_array_append_new(values, vitals_json_value(&h->values[(size_t)column * h->count + i]));
    return values;
}

/* Column `column` of `h` as the stream would have carried it: rounded for
 * a dashboard, and of a slow metric only the samples due. */
static json_t *stream_column(const vitals_history *h, guint column)
{
    guint index = h->metric_index >= 0 ? (guint)h->metric_index : column; /* in h->descs */
    const vitals_metric_desc *d = &h->descs->items[index]->desc;
    json_t *values = json_array();
    for (guint i = 0; i < h->count; i++) {
        if (vitals_stream_carries(d, index, h->first_seq + i))
            json_array_append_new(values, value_for_eye(&h->values[(size_t)column * h->count + i], d));
    }
    return values;
}

json_t *vitals_json_history_columns(const vitals_history *h)
{
    json_t *seq = json_array();
    for (guint i = 0; i < h->count; i++)
        json_array_append_new(seq, json_integer((json_int_t)(h->first_seq + i)));
    json_t *columns = json_array();
    for (guint c = 0; c < h->metrics; c++)
        json_array_append_new(columns, stream_column(h, c));
    return json_pack("{s:o, s:o, s:o}", "seq", seq, "ts", history_ts(h, TRUE), "values", columns);
}

json_t *vitals_json_history_metric(const vitals_history *h)
{
    const vitals_metric_info *info =
        h->descs->items[h->metric_index >= 0 ? (guint)h->metric_index : 0];
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "metric", info->id, "kind",
                     vitals_kind_name(info->desc.kind), "unit", info->desc.unit ? info->desc.unit : "",
                     "ts", history_ts(h, FALSE), "values", history_column(h, 0));
}

json_t *vitals_json_descriptors_message(const vitals_desc_set *set)
{
    return json_pack("{s:s, s:I, s:o}", "type", "descriptors", "generation",
                     (json_int_t)set->generation, "descriptors", vitals_json_descriptors(set));
}

char *vitals_json_dump(json_t *json, size_t *len)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(json);
    if (len)
        *len = text ? strlen(text) : 0;
    return text;
}

char *vitals_json_hello_text(vitals_registry *reg, double interval, size_t *len, uint64_t *seq)
{
    vitals_history *h = vitals_registry_history(reg, -1, 0, 0);
    *seq = h->count ? h->first_seq + h->count - 1 : 0;
    json_t *hello = json_pack("{s:s, s:i, s:s, s:f, s:I, s:o, s:o}", "type", "hello", "protocol",
                              VITALS_PROTOCOL, "version", VITALS_VERSION, "interval", interval,
                              "generation", (json_int_t)h->descs->generation, "descriptors",
                              vitals_json_descriptors(h->descs), "history",
                              vitals_json_history_columns(h));
    vitals_history_free(h);
    return vitals_json_dump(hello, len);
}

char *vitals_json_metrics_text(vitals_registry *reg, size_t *len)
{
    vitals_frame *frame = vitals_registry_latest(reg);
    json_t *body = vitals_json_metrics(frame);
    if (frame) {
        /* the page may put it in the row of the same sample: same time */
        json_object_set_new(body, "ts", stream_ts(frame->ts));
        vitals_frame_unref(frame);
    }
    json_object_set_new(body, "type", json_string("metrics"));
    return vitals_json_dump(body, len);
}
