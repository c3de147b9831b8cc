/*
 * prometheus.c — Prometheus text 0.0.4 and OpenMetrics 1.0 from a frame.
 *
 * Rendering runs in two passes over the frame's descriptor set.  The first
 * groups metrics into families: a family's name is "vitals_" + (the
 * descriptor's `family`, or its id) with every character outside
 * [a-zA-Z0-9_] turned into '_'; metrics sharing a name and a kind become
 * one family whose members differ by their `labels`.  The second writes
 * each family once — HELP, TYPE, then the samples of each member — in the
 * order families first appear.  (The host's own metrics, ids starting
 * "vitals.", keep a single "vitals_".)
 *
 *   GAUGE      name                          TYPE gauge
 *   COUNTER    name_total (a trailing "_total" of the name is not doubled)
 *              TYPE counter; OpenMetrics names the family without "_total"
 *   HISTOGRAM  a summary: name{quantile="0.5"|"0.95"|"0.99"} over the
 *              window (absent when the window is empty), name_sum and
 *              name_count since registration
 *   TEXT       name_info{value="<text>"} 1: a gauge in Prometheus text, an
 *              info family named `name` in OpenMetrics
 *
 * Every exposed name a family could produce (name, name_total, name_sum,
 * name_count, name_info, name_created …) is reserved; a later metric that
 * would produce one of them under another family or kind is left out, as
 * is a member whose label set repeats an earlier member's or whose labels
 * Prometheus cannot carry.  The choice depends only on the descriptors, so
 * it is the same on every scrape.  No UNIT lines: OpenMetrics wants the
 * unit as a suffix of the name, and vitals' ids do not promise one.
 */
#include "prometheus.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef VITALS_VERSION
#define VITALS_VERSION "unknown"
#endif

/* One family: its members are indices into the frame, in frame order. */
typedef struct family {
    char *base;               /* OpenMetrics family name, e.g. vitals_action */
    vitals_metric_kind kind;
    const char *help;         /* the first member's description or title */
    GArray *members;          /* guint */
    GPtrArray *labels;        /* char *: each member's rendered labels ("" for none) */
} family;

static void family_free(gpointer data)
{
    family *f = data;
    g_free(f->base);
    g_array_free(f->members, TRUE);
    g_ptr_array_free(f->labels, TRUE);
    g_free(f);
}

/* ---- text pieces ------------------------------------------------------- */

/* "vitals_" + key with every byte outside [a-zA-Z0-9_] as '_'; a key that
 * already starts with "vitals" and a separator (the host's own metrics,
 * "vitals.ingest.records") is not prefixed twice. */
static char *metric_name(const char *key)
{
    gboolean own = g_str_has_prefix(key, "vitals") && key[6] && !g_ascii_isalnum(key[6]);
    char *name = g_strconcat(own ? "" : "vitals_", key, NULL);
    for (char *c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && *c != '_')
            *c = '_';
    return name;
}

/* Cuts `suffix` off the end of `name` (in place) when something is left. */
static void strip_suffix(char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (n > s && strcmp(name + n - s, suffix) == 0)
        name[n - s] = '\0';
}

/* Appends `text` escaped for a HELP line: '\' and newline always, '"' too
 * in OpenMetrics.  Invalid UTF-8 is replaced first. */
static void put_escaped(GString *out, const char *text, gboolean quote)
{
    char *valid = g_utf8_validate(text, -1, NULL) ? NULL : g_utf8_make_valid(text, -1);
    for (const char *c = valid ? valid : text; *c; c++) {
        if (*c == '\\')
            g_string_append(out, "\\\\");
        else if (*c == '\n')
            g_string_append(out, "\\n");
        else if (*c == '"' && quote)
            g_string_append(out, "\\\"");
        else
            g_string_append_c(out, *c);
    }
    g_free(valid);
}

/* Appends key="value" (value escaped for a label), with a leading ',' when
 * `out` already holds a label. */
static void put_label(GString *out, const char *key, const char *value)
{
    if (out->len)
        g_string_append_c(out, ',');
    g_string_append(out, key);
    g_string_append(out, "=\"");
    put_escaped(out, value, TRUE);
    g_string_append_c(out, '"');
}

/* Appends a sample value: the shortest of %.15g, %.16g and %.17g that reads
 * back as the same double (so 0.1 is "0.1"), or +Inf, -Inf, NaN. */
static void put_number(GString *out, double v)
{
    if (isnan(v)) {
        g_string_append(out, "NaN");
        return;
    }
    if (isinf(v)) {
        g_string_append(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    static const char *const formats[] = {"%.15g", "%.16g", "%.17g"};
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, sizeof buf, formats[i], v);
        if (g_ascii_strtod(buf, NULL) == v)
            break;
    }
    g_string_append(out, buf);
}

/* Appends one sample line: name+suffix{labels,extra} value. */
static void put_sample(GString *out, const char *name, const char *suffix, const char *labels,
                       const char *extra, double value)
{
    g_string_append(out, name);
    g_string_append(out, suffix);
    if (*labels || extra) {
        g_string_append_c(out, '{');
        g_string_append(out, labels);
        if (extra)
            g_string_append_printf(out, "%s%s", *labels ? "," : "", extra);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ' ');
    put_number(out, value);
    g_string_append_c(out, '\n');
}

/* Appends "# HELP" and "# TYPE" lines for a family exposed as `name`. */
static void put_header(GString *out, gboolean om, const char *name, const char *type,
                       const char *help)
{
    if (help && *help) {
        g_string_append_printf(out, "# HELP %s ", name);
        put_escaped(out, help, om);
        g_string_append_c(out, '\n');
    }
    g_string_append_printf(out, "# TYPE %s %s\n", name, type);
}

/* ---- grouping ---------------------------------------------------------- */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Renders a descriptor's "k=v[,k=v]" as Prometheus labels sorted by key,
 * k1="v1",k2="v2" ("" for NULL).  Returns NULL when they cannot be carried:
 * a key outside [a-zA-Z_][a-zA-Z0-9_]*, one starting "__" (reserved), a key
 * given twice, `reserved_key` (the one the kind adds itself), or no '='.
 */
static char *render_labels(const char *labels, const char *reserved_key)
{
    if (!labels || !*labels)
        return g_strdup("");
    char **pairs = g_strsplit(labels, ",", -1);
    guint n = g_strv_length(pairs);
    qsort(pairs, n, sizeof *pairs, compare_strings);
    GString *out = g_string_new(NULL);
    gboolean ok = TRUE;
    char *previous = NULL;
    for (guint i = 0; i < n && ok; i++) {
        char *eq = strchr(pairs[i], '=');
        if (!eq || eq == pairs[i]) {
            ok = FALSE;
            break;
        }
        *eq = '\0';
        const char *key = pairs[i];
        ok = (g_ascii_isalpha(key[0]) || key[0] == '_') && !g_str_has_prefix(key, "__") &&
             !(reserved_key && strcmp(key, reserved_key) == 0) &&
             !(previous && strcmp(previous, key) == 0);
        for (const char *c = key; *c && ok; c++)
            ok = g_ascii_isalnum(*c) || *c == '_';
        if (ok)
            put_label(out, key, eq + 1);
        previous = pairs[i];
    }
    g_strfreev(pairs);
    return g_string_free(out, !ok);
}

/* Every name a family of `kind` called `base` may expose, NULL-terminated. */
static void family_names(const char *base, vitals_metric_kind kind, char *names[5])
{
    memset(names, 0, 5 * sizeof *names);
    names[0] = g_strdup(base);
    switch (kind) {
    case VITALS_COUNTER:
        names[1] = g_strconcat(base, "_total", NULL);
        names[2] = g_strconcat(base, "_created", NULL);
        break;
    case VITALS_HISTOGRAM:
        names[1] = g_strconcat(base, "_sum", NULL);
        names[2] = g_strconcat(base, "_count", NULL);
        names[3] = g_strconcat(base, "_created", NULL);
        break;
    case VITALS_TEXT:
        names[1] = g_strconcat(base, "_info", NULL);
        break;
    case VITALS_GAUGE:
    default:
        break;
    }
}

/* Reserves the names of a new family; FALSE (nothing reserved) when one is
 * already taken. */
static gboolean reserve_names(GHashTable *reserved, const char *base, vitals_metric_kind kind)
{
    char *names[5];
    family_names(base, kind, names);
    gboolean free_ = TRUE;
    for (int i = 0; names[i] && free_; i++)
        free_ = !g_hash_table_contains(reserved, names[i]);
    for (int i = 0; names[i]; i++) {
        if (free_)
            g_hash_table_add(reserved, names[i]);
        else
            g_free(names[i]);
    }
    return free_;
}

/* The label key a kind adds itself, which a member may not bring. */
static const char *own_label(vitals_metric_kind kind)
{
    return kind == VITALS_HISTOGRAM ? "quantile" : kind == VITALS_TEXT ? "value" : NULL;
}

/*
 * Adds metric `index` to its family, creating the family when new.  Leaves
 * it out (nothing changes) when its labels cannot be carried, when its name
 * belongs to a family of another kind or collides with names an earlier
 * family exposes, or when its family already has a member with its labels.
 */
static void add_member(GHashTable *by_base, GPtrArray *families, GHashTable *reserved,
                       const vitals_metric_info *info, guint index)
{
    const vitals_metric_desc *d = &info->desc;
    if ((unsigned)d->kind > VITALS_TEXT)
        return;
    char *labels = render_labels(d->labels, own_label(d->kind));
    if (!labels)
        return;
    char *base = metric_name(d->family && *d->family ? d->family : info->id);
    if (d->kind == VITALS_COUNTER)
        strip_suffix(base, "_total");
    else if (d->kind == VITALS_TEXT)
        strip_suffix(base, "_info");
    family *f = g_hash_table_lookup(by_base, base);
    gboolean ok;
    if (f) {
        ok = f->kind == d->kind;
        for (guint j = 0; ok && j < f->labels->len; j++)
            ok = strcmp(f->labels->pdata[j], labels) != 0;
        g_free(base);
    } else {
        ok = reserve_names(reserved, base, d->kind);
        if (ok) {
            f = g_new0(family, 1);
            f->base = base;
            f->kind = d->kind;
            f->help = d->description && *d->description ? d->description : d->title;
            f->members = g_array_new(FALSE, FALSE, sizeof(guint));
            f->labels = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(by_base, f->base, f);
            g_ptr_array_add(families, f);
        } else {
            g_free(base);
        }
    }
    if (!ok) {
        g_free(labels);
        return;
    }
    g_array_append_val(f->members, index);
    g_ptr_array_add(f->labels, labels);
}

/* Groups the metrics of `set` into families, in order of first appearance. */
static GPtrArray *group(const vitals_desc_set *set, GHashTable *reserved)
{
    GPtrArray *families = g_ptr_array_new_with_free_func(family_free);
    GHashTable *by_base = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < set->count; i++)
        add_member(by_base, families, reserved, set->items[i], i);
    g_hash_table_destroy(by_base);
    return families;
}

/* ---- output ------------------------------------------------------------ */

/* Writes one family: its header, then each member's samples. */
static void put_family(GString *out, gboolean om, const family *f, const vitals_frame *frame)
{
    static const char *const type[] = {"gauge", "counter", "summary", "gauge"};
    char *exposed = f->kind == VITALS_COUNTER ? g_strconcat(f->base, "_total", NULL)
                    : f->kind == VITALS_TEXT  ? g_strconcat(f->base, "_info", NULL)
                                              : g_strdup(f->base);
    if (om)
        put_header(out, om, f->base, f->kind == VITALS_TEXT ? "info" : type[f->kind], f->help);
    else
        put_header(out, om, exposed, type[f->kind], f->help);

    for (guint m = 0; m < f->members->len; m++) {
        const vitals_value *v = &frame->values[g_array_index(f->members, guint, m)];
        const char *labels = f->labels->pdata[m];
        switch (f->kind) {
        case VITALS_GAUGE:
        case VITALS_COUNTER:
            if (v->type == VITALS_VALUE_NUMBER)
                put_sample(out, exposed, "", labels, NULL, v->number);
            break;
        case VITALS_HISTOGRAM:
            if (v->type == VITALS_VALUE_SUMMARY) {
                const struct { const char *label; double value; } q[] = {
                    {"quantile=\"0.5\"", v->summary.p50},
                    {"quantile=\"0.95\"", v->summary.p95},
                    {"quantile=\"0.99\"", v->summary.p99}};
                for (size_t i = 0; i < G_N_ELEMENTS(q); i++)
                    if (v->summary.count > 0 && !isnan(q[i].value))
                        put_sample(out, f->base, "", labels, q[i].label, q[i].value);
                put_sample(out, f->base, "_sum", labels, NULL, v->summary.total_sum);
                put_sample(out, f->base, "_count", labels, NULL, v->summary.total_count);
            }
            break;
        case VITALS_TEXT:
            if (v->type == VITALS_VALUE_TEXT && v->text) {
                GString *with_value = g_string_new(labels);
                put_label(with_value, "value", v->text);
                put_sample(out, exposed, "", with_value->str, NULL, 1);
                g_string_free(with_value, TRUE);
            }
            break;
        }
    }
    g_free(exposed);
}

char *vitals_prometheus_render(const vitals_frame *frame, gboolean openmetrics, size_t *len)
{
    GString *out = g_string_sized_new(4096);
    GHashTable *reserved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    put_header(out, openmetrics, "vitals_up", "gauge", "1 when the vitals host answers");
    g_string_append(out, "vitals_up 1\n");
    put_header(out, openmetrics, openmetrics ? "vitals_build" : "vitals_build_info",
               openmetrics ? "info" : "gauge", "The version of the vitals host");
    GString *labels = g_string_new(NULL);
    put_label(labels, "version", VITALS_VERSION);
    put_sample(out, "vitals_build_info", "", labels->str, NULL, 1);
    g_string_free(labels, TRUE);
    reserve_names(reserved, "vitals_up", VITALS_GAUGE);
    reserve_names(reserved, "vitals_build", VITALS_TEXT);

    if (frame) {
        GPtrArray *families = group(frame->descs, reserved);
        for (guint i = 0; i < families->len; i++)
            put_family(out, openmetrics, families->pdata[i], frame);
        g_ptr_array_free(families, TRUE);
    }
    if (openmetrics)
        g_string_append(out, "# EOF\n");
    g_hash_table_destroy(reserved);
    if (len)
        *len = out->len;
    return g_string_free(out, FALSE);
}

gboolean vitals_prometheus_wants_openmetrics(const char *accept)
{
    if (!accept)
        return FALSE;
    gboolean wanted = FALSE;
    char **ranges = g_strsplit(accept, ",", -1);
    for (char **r = ranges; *r && !wanted; r++) {
        char **params = g_strsplit(*r, ";", -1);
        if (g_ascii_strcasecmp(g_strstrip(params[0]), "application/openmetrics-text") == 0) {
            wanted = TRUE;
            for (char **p = params + 1; *p; p++) {
                char *param = g_strstrip(*p);
                if (g_ascii_strncasecmp(param, "q=", 2) == 0)
                    wanted = g_ascii_strtod(param + 2, NULL) > 0;
            }
        }
        g_strfreev(params);
    }
    g_strfreev(ranges);
    return wanted;
}
