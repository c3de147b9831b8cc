/*
 * registry.c — the metrics, their current values and their history.
 *
 * One mutex guards everything mutable.  Writers (plugin callbacks, later the
 * ingest thread) take it for a few instructions per value; the sampler takes
 * it once per tick to freeze a frame.  Readers never take it for long: they
 * get immutable, reference-counted frames and descriptor sets.
 *
 * History is one ring of timestamps plus one ring per metric, all the same
 * length; a metric registered late is padded with gaps so that column i of
 * every ring is the same tick.  A metric is reference-counted: the registry
 * holds one reference and every descriptor set that lists it another, so a
 * plugin's metrics can be retired while a reader still encodes an old set.
 *
 * Metrics are kept in registration order, except that those the stream
 * carries in only some samples (stream_every > 1) stay after all the
 * others, so that the slow ones never move an every-sample metric's place
 * in a sample's values.
 */
#include "registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ring.h"

#define MAX_ID_LEN 128
#define MAX_UNIT_LEN 32
#define MAX_TEXT_LEN 256
/* Bounded memory per histogram whatever the observation rate. */
#define MAX_OBSERVATIONS 8192

G_DEFINE_QUARK(vitals-registry-error-quark, vitals_registry_error)

typedef struct observation {
    gint64 when;  /* monotonic microseconds */
    double value;
} observation;

struct vitals_metric {
    gint refs;                /* the registry's, and one per descriptor set */
    vitals_registry *reg;
    vitals_metric_info info;
    double total_count, total_sum; /* HISTOGRAM: every observation ever */
    vitals_value current;     /* guarded by reg->lock */
    vitals_ring observations; /* HISTOGRAM only */
    vitals_ring history;      /* vitals_value per tick */
};

struct vitals_registry {
    GMutex lock;
    unsigned history;
    GPtrArray *metrics;       /* vitals_metric*, index order */
    GHashTable *by_id;        /* id -> vitals_metric* */
    vitals_desc_set *descs;   /* NULL when it must be rebuilt */
    guint generation;
    vitals_ring ts;           /* double per tick */
    guint64 seq;
    vitals_frame *latest;
};

/* ---- values ---------------------------------------------------------- */

static void value_clear(vitals_value *v)
{
    g_free(v->text);
    memset(v, 0, sizeof *v);
}

static void value_copy(vitals_value *dst, const vitals_value *src)
{
    *dst = *src;
    dst->text = g_strdup(src->text);
}

static void drop_value(void *elem) { value_clear(elem); }

/* ---- descriptors ----------------------------------------------------- */

const char *vitals_kind_name(vitals_metric_kind kind)
{
    static const char *names[] = {"gauge", "counter", "histogram", "text"};
    return (unsigned)kind < G_N_ELEMENTS(names) ? names[kind] : "unknown";
}

const char *vitals_style_name(vitals_chart_style style)
{
    static const char *names[] = {"line", "area", "bar"};
    return (unsigned)style < G_N_ELEMENTS(names) ? names[style] : "line";
}

static gboolean is_id_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '_' || c == '.' || c == '-'))
            return FALSE;
    }
    return n > 0 && n <= max;
}

static gboolean is_unit_text(const char *s)
{
    if (strlen(s) > MAX_UNIT_LEN || !g_utf8_validate(s, -1, NULL))
        return FALSE;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\' || *c == 0x7f)
            return FALSE;
    return TRUE;
}

/* "key=value[,key=value]": what Prometheus can carry as labels. */
static gboolean labels_valid(const char *s)
{
    if (!*s || strlen(s) > 512 || !g_utf8_validate(s, -1, NULL))
        return FALSE;
    gboolean in_key = TRUE, empty = TRUE;
    for (const char *c = s; *c; c++) {
        if (in_key) {
            if (*c == '=' && !empty) {
                in_key = FALSE;
                empty = TRUE;
            } else if (g_ascii_islower(*c) || *c == '_' || (!empty && g_ascii_isdigit(*c))) {
                empty = FALSE;
            } else {
                return FALSE;
            }
        } else if (*c == ',') {
            in_key = TRUE;
            empty = TRUE;
        } else if (*c == '=' || *c == '"' || *c == '\\' || (unsigned char)*c < 0x20) {
            return FALSE;
        } else {
            empty = FALSE;
        }
    }
    return !in_key; /* ended inside a value (an empty value is allowed) */
}

/* Checks a plugin's descriptor; on failure sets *error naming the field. */
static gboolean desc_valid(const vitals_metric_desc *d, GError **error)
{
    const char *why = NULL;
    if (!d->id || !d->id[0])
        why = "empty id";
    else if (!is_id_text(d->id, MAX_ID_LEN))
        why = "id must be 1-128 characters of [a-z0-9_.-]";
    else if (!d->title || !d->title[0] || !g_utf8_validate(d->title, -1, NULL))
        why = "missing or non-UTF-8 title";
    else if ((unsigned)d->kind > VITALS_TEXT)
        why = "unknown kind";
    else if ((unsigned)d->style > VITALS_BAR)
        why = "unknown chart style";
    else if ((unsigned)d->axis > VITALS_AXIS_RIGHT)
        why = "unknown axis";
    else if (d->unit && !is_unit_text(d->unit))
        why = "unit must be at most 32 printable characters";
    else if (d->chart && !is_id_text(d->chart, MAX_ID_LEN))
        why = "chart must be 1-128 characters of [a-z0-9_.-]";
    else if ((d->description && !g_utf8_validate(d->description, -1, NULL)) ||
             (d->chart_title && !g_utf8_validate(d->chart_title, -1, NULL)))
        why = "non-UTF-8 description or chart title";
    else if (d->precision < 0 || d->precision > 9)
        why = "precision must be 0..9";
    else if (d->family && !is_id_text(d->family, MAX_ID_LEN))
        why = "family must be 1-128 characters of [a-z0-9_.-]";
    else if (d->labels && !labels_valid(d->labels))
        why = "labels must be key=value[,key=value] with keys [a-z_][a-z0-9_]* and values "
              "without , = \" or control characters";
    else if (d->stream_every < 0 || d->stream_every > VITALS_STREAM_EVERY_MAX)
        why = "stream_every must be 0..60 (0 or 1: in every sample)";
    else if (d->stream_every > 1 && d->kind == VITALS_COUNTER)
        why = "stream_every must be 0 or 1 for a counter: dashboards chart the difference "
              "between consecutive samples";
    if (why)
        g_set_error(error, VITALS_REGISTRY_ERROR, 1, "invalid metric '%s': %s",
                    d->id ? d->id : "(null)", why);
    return why == NULL;
}

static void info_init(vitals_metric_info *info, const char *plugin, const vitals_metric_desc *d)
{
    info->desc = *d;
    info->id = g_strdup(d->id);
    info->plugin = g_strdup(plugin);
    info->desc.id = info->id;
    info->desc.title = g_strdup(d->title);
    info->desc.unit = g_strdup(d->unit ? d->unit : "");
    info->desc.description = g_strdup(d->description);
    info->desc.chart = g_strdup(d->chart);
    info->desc.chart_title = g_strdup(d->chart_title);
    info->desc.family = g_strdup(d->family);
    info->desc.labels = g_strdup(d->labels);
    if (info->desc.stream_every < 1)
        info->desc.stream_every = 1; /* 0, the zeroed default, means every sample too */
}

size_t vitals_metric_desc_size(uint32_t abi_minor)
{
    if (abi_minor < 2)
        return offsetof(vitals_metric_desc, family);
    if (abi_minor < 3)
        return offsetof(vitals_metric_desc, stream_every);
    return sizeof(vitals_metric_desc);
}

static void info_clear(vitals_metric_info *info)
{
    g_free(info->id);
    g_free(info->plugin);
    g_free((char *)info->desc.title);
    g_free((char *)info->desc.unit);
    g_free((char *)info->desc.description);
    g_free((char *)info->desc.chart);
    g_free((char *)info->desc.chart_title);
    g_free((char *)info->desc.family);
    g_free((char *)info->desc.labels);
}

static void metric_unref(vitals_metric *m);

/* The metric an info is embedded in. */
static vitals_metric *metric_of(vitals_metric_info *info)
{
    return (vitals_metric *)(void *)((char *)info - offsetof(vitals_metric, info));
}

vitals_desc_set *vitals_desc_set_ref(vitals_desc_set *s)
{
    g_atomic_int_inc(&s->refs);
    return s;
}

void vitals_desc_set_unref(vitals_desc_set *s)
{
    if (s && g_atomic_int_dec_and_test(&s->refs)) {
        for (guint i = 0; i < s->count; i++)
            metric_unref(metric_of(s->items[i]));
        g_free(s->items);
        g_free(s);
    }
}

/* The current set, built on demand; reg->lock held. */
static vitals_desc_set *current_descs_locked(vitals_registry *reg)
{
    if (!reg->descs) {
        vitals_desc_set *s = g_new0(vitals_desc_set, 1);
        s->refs = 1;
        s->generation = reg->generation;
        s->count = reg->metrics->len;
        s->items = g_new(vitals_metric_info *, s->count ? s->count : 1);
        for (guint i = 0; i < s->count; i++) {
            vitals_metric *m = reg->metrics->pdata[i];
            g_atomic_int_inc(&m->refs);
            s->items[i] = &m->info;
        }
        reg->descs = s;
    }
    return reg->descs;
}

/* ---- registry -------------------------------------------------------- */

vitals_registry *vitals_registry_new(unsigned history)
{
    vitals_registry *reg = g_new0(vitals_registry, 1);
    g_mutex_init(&reg->lock);
    reg->history = history < 2 ? 2 : history;
    reg->metrics = g_ptr_array_new();
    reg->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    reg->generation = 1;
    if (vitals_ring_init(&reg->ts, sizeof(double), reg->history, NULL) != 0)
        g_error("out of memory for %u history samples", reg->history);
    return reg;
}

static void metric_free(vitals_metric *m)
{
    value_clear(&m->current);
    if (m->info.desc.kind == VITALS_HISTOGRAM)
        vitals_ring_free(&m->observations);
    vitals_ring_free(&m->history);
    info_clear(&m->info);
    g_free(m);
}

/* Frees the metric when its last reference goes. */
static void metric_unref(vitals_metric *m)
{
    if (g_atomic_int_dec_and_test(&m->refs))
        metric_free(m);
}

void vitals_registry_free(vitals_registry *reg)
{
    if (!reg)
        return;
    if (reg->latest)
        vitals_frame_unref(reg->latest);
    if (reg->descs)
        vitals_desc_set_unref(reg->descs);
    /* Frames and sets handed out must be released before this point. */
    for (guint i = 0; i < reg->metrics->len; i++)
        metric_unref(reg->metrics->pdata[i]);
    g_ptr_array_free(reg->metrics, TRUE);
    g_hash_table_destroy(reg->by_id);
    vitals_ring_free(&reg->ts);
    g_mutex_clear(&reg->lock);
    g_free(reg);
}

vitals_metric *vitals_registry_add(vitals_registry *reg, const char *plugin,
                                   const vitals_metric_desc *desc, GError **error)
{
    if (!desc_valid(desc, error))
        return NULL;
    g_mutex_lock(&reg->lock);
    vitals_metric *existing = g_hash_table_lookup(reg->by_id, desc->id);
    if (existing) {
        g_set_error(error, VITALS_REGISTRY_ERROR, 2, "duplicate metric id '%s' (already registered by %s)",
                    desc->id, existing->info.plugin);
        g_mutex_unlock(&reg->lock);
        return NULL;
    }
    vitals_metric *m = g_new0(vitals_metric, 1);
    m->refs = 1;
    m->reg = reg;
    info_init(&m->info, plugin, desc);
    if (desc->kind == VITALS_HISTOGRAM)
        vitals_ring_init(&m->observations, sizeof(observation), MAX_OBSERVATIONS, NULL);
    vitals_ring_init(&m->history, sizeof(vitals_value), reg->history, drop_value);
    /* Pad with gaps so every history ring has one element per kept tick. */
    vitals_value gap = {0};
    for (size_t i = 0; i < vitals_ring_count(&reg->ts); i++)
        vitals_ring_push(&m->history, &gap);
    /* Every-sample metrics before the slow ones (vitals_desc_set): a new
     * every-sample metric goes before the first slow one, which move down. */
    guint at = reg->metrics->len;
    if (m->info.desc.stream_every == 1)
        while (at > 0 && ((vitals_metric *)reg->metrics->pdata[at - 1])->info.desc.stream_every > 1)
            at--;
    g_ptr_array_insert(reg->metrics, (gint)at, m);
    for (guint i = at; i < reg->metrics->len; i++)
        ((vitals_metric *)reg->metrics->pdata[i])->info.index = i;
    g_hash_table_insert(reg->by_id, m->info.id, m);
    if (reg->descs) {
        vitals_desc_set_unref(reg->descs);
        reg->descs = NULL;
    }
    reg->generation++;
    g_mutex_unlock(&reg->lock);
    return m;
}

const vitals_metric_info *vitals_metric_get_info(const vitals_metric *m) { return &m->info; }

/* ---- setters ---------------------------------------------------------- */

/* True when the metric's kind accepts this setter; a misuse is a plugin bug,
 * logged at debug level because it may happen every tick. */
static gboolean kind_is(const vitals_metric *m, gboolean ok, const char *setter)
{
    if (!ok)
        vitals_log(VITALS_LOG_DEBUG, m->info.plugin, "%s() on %s metric '%s' ignored", setter,
                   vitals_kind_name(m->info.desc.kind), m->info.id);
    return ok;
}

void vitals_metric_set(vitals_metric *m, double value)
{
    vitals_metric_kind k = m->info.desc.kind;
    if (!kind_is(m, k == VITALS_GAUGE || k == VITALS_COUNTER, "metric_set"))
        return;
    g_mutex_lock(&m->reg->lock);
    if (isfinite(value)) {
        m->current.type = VITALS_VALUE_NUMBER;
        m->current.number = value;
    } else {
        m->current.type = VITALS_VALUE_NONE;
    }
    g_mutex_unlock(&m->reg->lock);
}

void vitals_metric_add(vitals_metric *m, double delta)
{
    if (!kind_is(m, m->info.desc.kind == VITALS_COUNTER, "metric_add") || !isfinite(delta))
        return;
    g_mutex_lock(&m->reg->lock);
    if (m->current.type != VITALS_VALUE_NUMBER) {
        m->current.type = VITALS_VALUE_NUMBER;
        m->current.number = 0;
    }
    m->current.number += delta;
    g_mutex_unlock(&m->reg->lock);
}

void vitals_metric_observe(vitals_metric *m, double value)
{
    if (!kind_is(m, m->info.desc.kind == VITALS_HISTOGRAM, "metric_observe") || !isfinite(value))
        return;
    observation o = {g_get_monotonic_time(), value};
    g_mutex_lock(&m->reg->lock);
    vitals_ring_push(&m->observations, &o);
    m->total_count += 1;
    m->total_sum += value;
    g_mutex_unlock(&m->reg->lock);
}

void vitals_metric_set_text(vitals_metric *m, const char *text)
{
    if (!kind_is(m, m->info.desc.kind == VITALS_TEXT, "metric_set_text"))
        return;
    char *copy = NULL;
    if (text) {
        /* Keep it short and valid UTF-8 so every encoder can trust it. */
        copy = g_utf8_make_valid(text, -1);
        if (strlen(copy) > MAX_TEXT_LEN) {
            const char *end = g_utf8_find_prev_char(copy, copy + MAX_TEXT_LEN + 1);
            copy[end ? end - copy : 0] = '\0';
        }
    }
    g_mutex_lock(&m->reg->lock);
    g_free(m->current.text);
    m->current.text = copy;
    m->current.type = copy ? VITALS_VALUE_TEXT : VITALS_VALUE_NONE;
    g_mutex_unlock(&m->reg->lock);
}

void vitals_metric_clear(vitals_metric *m)
{
    g_mutex_lock(&m->reg->lock);
    value_clear(&m->current);
    if (m->info.desc.kind == VITALS_HISTOGRAM) {
        vitals_ring_free(&m->observations);
        vitals_ring_init(&m->observations, sizeof(observation), MAX_OBSERVATIONS, NULL);
    }
    g_mutex_unlock(&m->reg->lock);
}

/* ---- snapshot -------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[rank ? rank - 1 : 0];
}

/* Summarises the observations of the last VITALS_HISTOGRAM_WINDOW seconds. */
static vitals_value summarise(vitals_metric *m, gint64 now)
{
    vitals_value v = {.type = VITALS_VALUE_SUMMARY};
    v.summary.total_count = m->total_count;
    v.summary.total_sum = m->total_sum;
    gint64 oldest = now - (gint64)(VITALS_HISTOGRAM_WINDOW * G_USEC_PER_SEC);
    size_t n = vitals_ring_count(&m->observations);
    double *values = g_new(double, n ? n : 1);
    size_t kept = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const observation *o = vitals_ring_at(&m->observations, i);
        if (o->when >= oldest) {
            values[kept++] = o->value;
            sum += o->value;
        }
    }
    v.summary.count = (double)kept;
    if (kept) {
        qsort(values, kept, sizeof(double), compare_doubles);
        v.summary.mean = sum / (double)kept;
        v.summary.p50 = percentile(values, kept, 50);
        v.summary.p95 = percentile(values, kept, 95);
        v.summary.p99 = percentile(values, kept, 99);
    } else {
        v.summary.mean = v.summary.p50 = v.summary.p95 = v.summary.p99 = NAN;
    }
    g_free(values);
    return v;
}

vitals_frame *vitals_registry_snapshot(vitals_registry *reg, double ts)
{
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&reg->lock);
    vitals_frame *f = g_new0(vitals_frame, 1);
    f->refs = 2; /* the caller's and reg->latest */
    f->seq = ++reg->seq;
    f->ts = ts;
    f->descs = vitals_desc_set_ref(current_descs_locked(reg));
    f->values = g_new0(vitals_value, f->descs->count ? f->descs->count : 1);
    vitals_ring_push(&reg->ts, &ts);
    for (guint i = 0; i < f->descs->count; i++) {
        vitals_metric *m = reg->metrics->pdata[i];
        if (m->info.desc.kind == VITALS_HISTOGRAM)
            f->values[i] = summarise(m, now);
        else
            value_copy(&f->values[i], &m->current);
        vitals_value kept;
        value_copy(&kept, &f->values[i]);
        vitals_ring_push(&m->history, &kept);
    }
    vitals_frame *old = reg->latest;
    reg->latest = f;
    g_mutex_unlock(&reg->lock);
    if (old)
        vitals_frame_unref(old);
    return f;
}

vitals_frame *vitals_frame_ref(vitals_frame *f)
{
    g_atomic_int_inc(&f->refs);
    return f;
}

void vitals_frame_unref(vitals_frame *f)
{
    if (!f || !g_atomic_int_dec_and_test(&f->refs))
        return;
    for (guint i = 0; i < f->descs->count; i++)
        value_clear(&f->values[i]);
    g_free(f->values);
    vitals_desc_set_unref(f->descs);
    g_free(f);
}

vitals_frame *vitals_registry_latest(vitals_registry *reg)
{
    g_mutex_lock(&reg->lock);
    vitals_frame *f = reg->latest ? vitals_frame_ref(reg->latest) : NULL;
    g_mutex_unlock(&reg->lock);
    return f;
}

vitals_desc_set *vitals_registry_descriptors(vitals_registry *reg)
{
    g_mutex_lock(&reg->lock);
    vitals_desc_set *s = vitals_desc_set_ref(current_descs_locked(reg));
    g_mutex_unlock(&reg->lock);
    return s;
}

unsigned vitals_registry_history_capacity(const vitals_registry *reg) { return reg->history; }

int vitals_registry_find(vitals_registry *reg, const char *id)
{
    g_mutex_lock(&reg->lock);
    vitals_metric *m = g_hash_table_lookup(reg->by_id, id);
    int index = m ? (int)m->info.index : -1;
    g_mutex_unlock(&reg->lock);
    return index;
}

/* ---- history --------------------------------------------------------- */

static vitals_history *history_locked(vitals_registry *reg, int metric_index, double since,
                                      guint max_samples)
{
    vitals_history *h = g_new0(vitals_history, 1);
    h->descs = vitals_desc_set_ref(current_descs_locked(reg));
    h->metric_index = metric_index < (int)h->descs->count ? metric_index : -1;
    h->metrics = h->metric_index >= 0 ? 1 : h->descs->count;

    size_t total = vitals_ring_count(&reg->ts);
    size_t start = total;
    while (start > 0 && (max_samples == 0 || total - start < max_samples) &&
           *(double *)vitals_ring_at(&reg->ts, start - 1) >= since)
        start--;
    h->count = (guint)(total - start);
    h->first_seq = reg->seq - total + start + 1;
    h->ts = g_new(double, h->count ? h->count : 1);
    h->values = g_new0(vitals_value, (size_t)h->metrics * h->count + 1);
    for (guint i = 0; i < h->count; i++)
        h->ts[i] = *(double *)vitals_ring_at(&reg->ts, start + i);
    for (guint c = 0; c < h->metrics; c++) {
        guint index = h->metric_index >= 0 ? (guint)h->metric_index : c;
        vitals_metric *m = reg->metrics->pdata[index];
        for (guint i = 0; i < h->count; i++)
            value_copy(&h->values[(size_t)c * h->count + i], vitals_ring_at(&m->history, start + i));
    }
    return h;
}

vitals_history *vitals_registry_history(vitals_registry *reg, int metric_index, double since,
                                        guint max_samples)
{
    g_mutex_lock(&reg->lock);
    vitals_history *h = history_locked(reg, metric_index, since, max_samples);
    g_mutex_unlock(&reg->lock);
    return h;
}

vitals_history *vitals_registry_history_of(vitals_registry *reg, const char *id, double since,
                                           guint max_samples)
{
    g_mutex_lock(&reg->lock);
    vitals_metric *m = g_hash_table_lookup(reg->by_id, id);
    vitals_history *h = m ? history_locked(reg, (int)m->info.index, since, max_samples) : NULL;
    g_mutex_unlock(&reg->lock);
    return h;
}

void vitals_history_free(vitals_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < (size_t)h->metrics * h->count; i++)
        value_clear(&h->values[i]);
    g_free(h->values);
    g_free(h->ts);
    vitals_desc_set_unref(h->descs);
    g_free(h);
}

/* ---- retiring -------------------------------------------------------- */

guint vitals_registry_retire(vitals_registry *reg, const char *plugin)
{
    guint retired = 0;
    g_mutex_lock(&reg->lock);
    for (guint i = 0; i < reg->metrics->len;) {
        vitals_metric *m = reg->metrics->pdata[i];
        if (strcmp(m->info.plugin, plugin) != 0) {
            m->info.index = i++;
            continue;
        }
        g_hash_table_remove(reg->by_id, m->info.id);
        g_ptr_array_remove_index(reg->metrics, i); /* keeps the others in order */
        metric_unref(m);
        retired++;
    }
    if (retired) {
        if (reg->descs) {
            vitals_desc_set_unref(reg->descs);
            reg->descs = NULL;
        }
        reg->generation++;
    }
    g_mutex_unlock(&reg->lock);
    return retired;
}
