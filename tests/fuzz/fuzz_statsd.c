/*
 * fuzz_statsd.c — libFuzzer target for core/statsd.c.
 *
 * Why: statsd_parse sees every UDP datagram sent to the ingest port, from
 * any sender.  The input is one datagram, copied to a heap block of exactly
 * its size (so ASan catches any read or write past it, which the parser
 * promises never to do).  Every record delivered must satisfy the grammar's
 * checks (name characters and length, finite values, non-negative timings,
 * 0 < rate <= 1, at most STATSD_MAX_TAGS tags, set members of 1..200
 * bytes), every rejection must quote a part of the datagram with a reason,
 * and the totals returned must match the callbacks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    const char *buf;
    size_t len;
    size_t records, rejected;
} seen;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_statsd: %s\n", what);
    abort();
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > STATSD_MAX_NAME)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

static void on_record(void *user, const vitals_record *r)
{
    seen *s = user;
    s->records++;
    if (!r->name || !name_ok(r->name))
        fail("record with a bad name");
    if (!(r->sample_rate > 0 && r->sample_rate <= 1))
        fail("record with a bad sample rate");
    if (r->tag_count > STATSD_MAX_TAGS || (r->tag_count && !r->tags))
        fail("record with too many tags");
    for (size_t i = 0; i < r->tag_count; i++) {
        if (!r->tags[i].key || !r->tags[i].key[0] || !r->tags[i].value)
            fail("record with an empty tag key");
        /* Touch every byte: ASan checks the strings end inside valid memory. */
        (void)strlen(r->tags[i].value);
    }
    switch (r->type) {
    case VITALS_RECORD_SET: {
        size_t n = r->text ? strlen(r->text) : 0;
        if (n < 1 || n > 200)
            fail("set member of a bad length");
        break;
    }
    case VITALS_RECORD_TIMING:
        if (r->value < 0)
            fail("negative timing");
        /* fall through */
    case VITALS_RECORD_COUNTER:
    case VITALS_RECORD_GAUGE:
        if (!isfinite(r->value))
            fail("record with a value that is not finite");
        if (r->delta && r->type != VITALS_RECORD_GAUGE)
            fail("delta on a record that is not a gauge");
        break;
    default:
        fail("record of an unknown type");
    }
}

static void on_reject(void *user, const char *line, size_t len, const char *why)
{
    seen *s = user;
    s->rejected++;
    if (!why || !*why)
        fail("rejection without a reason");
    if (len == 0 || line < s->buf || line + len > s->buf + s->len)
        fail("rejected line outside the datagram");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    seen s = {.buf = buf, .len = size};
    statsd_result r = statsd_parse(buf, size, on_record, on_reject, &s);
    if (r.records != s.records || r.rejected != s.rejected)
        fail("totals differ from the callbacks");

    /* Without callbacks the parser must count the same (fresh copy: the
     * first parse wrote NULs into buf). */
    memcpy(buf, data, size);
    statsd_result again = statsd_parse(buf, size, NULL, NULL, NULL);
    if (again.records != r.records || again.rejected != r.rejected)
        fail("counts differ without callbacks");
    free(buf);
    return 0;
}
