/*
 * ingest_json.c — turns POSTed JSON records into vitals_records.
 *
 * The same rules as the StatsD parser (name characters, finite values,
 * non-negative timings, 0 < rate <= 1, at most 32 tags), so an application
 * gets the same answer whichever way it reports.
 */
#include "ingest_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "statsd.h"

#define MAX_ERRORS_LISTED 20

static gboolean valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STATSD_MAX_NAME)
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!(g_ascii_isalnum(*c) || *c == '_' || *c == '.' || *c == '-'))
            return FALSE;
    return TRUE;
}

static gboolean parse_type(const char *s, vitals_record_type *type)
{
    static const struct { const char *name; vitals_record_type type; } types[] = {
        {"timing", VITALS_RECORD_TIMING}, {"ms", VITALS_RECORD_TIMING}, {"h", VITALS_RECORD_TIMING},
        {"d", VITALS_RECORD_TIMING}, {"histogram", VITALS_RECORD_TIMING},
        {"counter", VITALS_RECORD_COUNTER}, {"c", VITALS_RECORD_COUNTER},
        {"gauge", VITALS_RECORD_GAUGE}, {"g", VITALS_RECORD_GAUGE},
        {"set", VITALS_RECORD_SET}, {"s", VITALS_RECORD_SET}};
    for (size_t i = 0; s && i < G_N_ELEMENTS(types); i++) {
        if (strcmp(s, types[i].name) == 0) {
            *type = types[i].type;
            return TRUE;
        }
    }
    return FALSE;
}

/* Text of a scalar tag value; numbers and booleans are written into `buf`. */
static const char *scalar_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, size, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

/* Fills tags from {"k":v} or ["k:v", "k"]; returns the count or -1. */
static int parse_tags(json_t *tags, vitals_tag *out, char scratch[][32], GPtrArray *owned)
{
    int n = 0;
    if (!tags)
        return 0;
    if (json_is_object(tags)) {
        const char *key;
        json_t *value;
        json_object_foreach(tags, key, value) {
            if (n >= STATSD_MAX_TAGS || !key[0])
                return -1;
            const char *text = scalar_text(value, scratch[n], 32);
            if (!text)
                return -1;
            out[n].key = key;
            out[n].value = text;
            n++;
        }
        return n;
    }
    if (!json_is_array(tags))
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(tags, i, item) {
        const char *s = json_string_value(item);
        if (!s || !s[0] || s[0] == ':' || n >= STATSD_MAX_TAGS)
            return -1;
        const char *colon = strchr(s, ':');
        if (colon) {
            char *key = g_strndup(s, (size_t)(colon - s));
            g_ptr_array_add(owned, key);
            out[n].key = key;
            out[n].value = colon + 1;
        } else {
            out[n].key = s;
            out[n].value = "";
        }
        n++;
    }
    return n;
}

/* Delivers one record object; returns NULL, or why it was refused. */
static const char *deliver_one(vitals_ingest_sink *sink, json_t *obj)
{
    if (!json_is_object(obj))
        return "a record must be an object";
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (!name || !valid_name(name))
        return "'name' must be 1-200 characters of [A-Za-z0-9_.-]";
    vitals_record r = {.name = name, .sample_rate = 1};
    if (!parse_type(json_string_value(json_object_get(obj, "type")), &r.type))
        return "'type' must be timing, counter, gauge or set (or ms, c, g, s)";
    json_t *value = json_object_get(obj, "value");
    char number_text[32];
    if (r.type == VITALS_RECORD_SET) {
        r.text = scalar_text(value, number_text, sizeof number_text);
        if (!r.text || !r.text[0] || strlen(r.text) > 200)
            return "a set's 'value' must be a string of 1-200 bytes";
    } else {
        if (!json_is_number(value) || !isfinite(json_number_value(value)))
            return "'value' must be a finite number";
        r.value = json_number_value(value);
        if (r.type == VITALS_RECORD_TIMING && r.value < 0)
            return "a timing cannot be negative";
    }
    json_t *rate = json_object_get(obj, "rate");
    if (rate) {
        r.sample_rate = json_number_value(rate);
        if (!json_is_number(rate) || !(r.sample_rate > 0 && r.sample_rate <= 1))
            return "'rate' must be a number with 0 < rate <= 1";
    }
    json_t *delta = json_object_get(obj, "delta");
    if (delta && (!json_is_boolean(delta) || (json_is_true(delta) && r.type != VITALS_RECORD_GAUGE)))
        return "'delta' is a boolean, and true only for gauges";
    r.delta = json_is_true(delta);

    vitals_tag tags[STATSD_MAX_TAGS];
    char scratch[STATSD_MAX_TAGS][32];
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    int n = parse_tags(json_object_get(obj, "tags"), tags, scratch, owned);
    if (n >= 0) {
        r.tags = tags;
        r.tag_count = (size_t)n;
        vitals_ingest_record(sink, &r);
    }
    g_ptr_array_free(owned, TRUE);
    return n < 0 ? "'tags' must be an object of scalars or an array of \"key:value\" strings "
                   "(at most 32)" : NULL;
}

json_t *vitals_ingest_json(vitals_ingest_sink *sink, const char *body, size_t len,
                           const char *source, const char **why)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *records = json_is_array(doc) ? doc : json_object_get(doc, "records");
    if (!json_is_array(records)) {
        *why = doc ? "expected an array of records or {\"records\": [...]}" : "the body is not JSON";
        /* A refused body is one bad input, counted like a bad datagram. */
        vitals_ingest_reject(sink, source, body, len, *why);
        json_decref(doc);
        return NULL;
    }
    size_t accepted = 0, rejected = 0, i;
    json_t *errors = json_array(), *item;
    json_array_foreach(records, i, item) {
        const char *error = deliver_one(sink, item);
        if (!error) {
            accepted++;
            continue;
        }
        rejected++;
        char *text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
        vitals_ingest_reject(sink, source, text ? text : "?", text ? strlen(text) : 1, error);
        free(text);
        if (json_array_size(errors) < MAX_ERRORS_LISTED)
            json_array_append_new(errors, json_pack("{s:I, s:s}", "index", (json_int_t)i, "error", error));
    }
    json_decref(doc);
    return json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)accepted, "rejected",
                     (json_int_t)rejected, "errors", errors);
}
