/*
 * test_statsd.c — the StatsD / DogStatsD parser: every type and section,
 * every malformed form with its reason, datagram splitting, limits, and
 * garbage that must never crash it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_suite.h"
#include "statsd.h"

/* ---- a collector that copies what the callbacks see ---------------------- */

#define KEEP 64 /* records and rejects kept in detail; all are counted */

typedef struct rec {
    char name[STATSD_MAX_NAME + 1];
    vitals_record_type type;
    double value;
    char text[256];
    bool has_text;
    double rate;
    bool delta;
    size_t tag_count;
    char keys[STATSD_MAX_TAGS][64];
    char vals[STATSD_MAX_TAGS][64];
} rec;

typedef struct rej {
    char line[128];
    size_t len;
    const char *why;
} rej;

static rec recs[KEEP];
static rej rejs[KEEP];
static size_t nrecs, nrejs;

static void on_record(void *user, const vitals_record *r)
{
    ck_assert_ptr_eq(user, &nrecs);
    ck_assert_ptr_nonnull(r->name);
    ck_assert(r->sample_rate > 0 && r->sample_rate <= 1);
    ck_assert_uint_le(r->tag_count, STATSD_MAX_TAGS);
    ck_assert(r->type == VITALS_RECORD_SET ? r->text != NULL : r->text == NULL);
    if (nrecs < KEEP) {
        rec *c = &recs[nrecs];
        snprintf(c->name, sizeof c->name, "%s", r->name);
        c->type = r->type;
        c->value = r->value;
        c->has_text = r->text != NULL;
        snprintf(c->text, sizeof c->text, "%s", r->text ? r->text : "");
        c->rate = r->sample_rate;
        c->delta = r->delta;
        c->tag_count = r->tag_count;
        for (size_t i = 0; i < r->tag_count; i++) {
            snprintf(c->keys[i], sizeof c->keys[i], "%s", r->tags[i].key);
            snprintf(c->vals[i], sizeof c->vals[i], "%s", r->tags[i].value);
        }
    }
    nrecs++;
}

static void on_reject(void *user, const char *line, size_t len, const char *why)
{
    ck_assert_ptr_eq(user, &nrecs);
    ck_assert_ptr_nonnull(why);
    if (nrejs < KEEP) {
        size_t n = len < sizeof rejs[0].line - 1 ? len : sizeof rejs[0].line - 1;
        memcpy(rejs[nrejs].line, line, n);
        rejs[nrejs].line[n] = '\0';
        rejs[nrejs].len = len;
        rejs[nrejs].why = why;
    }
    nrejs++;
}

/* Parses a copy of buf[0..len) exactly that long (so ASan sees overreads)
 * and checks that the result matches what the callbacks saw. */
static statsd_result parse_n(const char *buf, size_t len)
{
    nrecs = nrejs = 0;
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, buf, len);
    statsd_result r = statsd_parse(copy, len, on_record, on_reject, &nrecs);
    free(copy);
    ck_assert_uint_eq(r.records, nrecs);
    ck_assert_uint_eq(r.rejected, nrejs);
    return r;
}

static statsd_result parse(const char *text)
{
    return parse_n(text, strlen(text));
}

/* Asserts that `line` alone yields one reject with reason `why`. */
static void assert_rejected(const char *line, const char *why)
{
    statsd_result r = parse(line);
    ck_assert_msg(r.records == 0 && r.rejected == 1, "\"%s\": %zu records, %zu rejected", line,
                  r.records, r.rejected);
    ck_assert_str_eq(rejs[0].why, why);
}

/* Asserts that `line` alone yields exactly one record. */
static void assert_one(const char *line)
{
    statsd_result r = parse(line);
    ck_assert_msg(r.records == 1 && r.rejected == 0, "\"%s\": %zu records, %zu rejected (%s)",
                  line, r.records, r.rejected, nrejs ? rejs[0].why : "");
}

/* ---- types ---------------------------------------------------------------- */

START_TEST(test_timing_types)
{
    const char *lines[] = {"t:12.5|ms", "t:12.5|h", "t:12.5|d"};
    for (size_t i = 0; i < 3; i++) {
        assert_one(lines[i]);
        ck_assert_str_eq(recs[0].name, "t");
        ck_assert_int_eq(recs[0].type, VITALS_RECORD_TIMING);
        ck_assert_double_eq(recs[0].value, 12.5);
        ck_assert_double_eq(recs[0].rate, 1.0);
        ck_assert(!recs[0].delta && !recs[0].has_text);
        ck_assert_uint_eq(recs[0].tag_count, 0);
    }
    assert_one("t:0|ms");
    assert_one("t:1e3|ms");
    ck_assert_double_eq(recs[0].value, 1000.0);
}
END_TEST

START_TEST(test_counter)
{
    assert_one("page.views:3|c");
    ck_assert_str_eq(recs[0].name, "page.views");
    ck_assert_int_eq(recs[0].type, VITALS_RECORD_COUNTER);
    ck_assert_double_eq(recs[0].value, 3.0);
    assert_one("x:-2.5|c");
    ck_assert_double_eq(recs[0].value, -2.5);
    ck_assert(!recs[0].delta); /* delta is a gauge notion */
    assert_one("x:+4|c");
    ck_assert(!recs[0].delta);
}
END_TEST

START_TEST(test_gauge)
{
    assert_one("mem_used:512|g");
    ck_assert_int_eq(recs[0].type, VITALS_RECORD_GAUGE);
    ck_assert_double_eq(recs[0].value, 512.0);
    ck_assert(!recs[0].delta);
    assert_one("mem_used:+10|g");
    ck_assert_double_eq(recs[0].value, 10.0);
    ck_assert(recs[0].delta);
    assert_one("mem_used:-10.5|g");
    ck_assert_double_eq(recs[0].value, -10.5);
    ck_assert(recs[0].delta);
}
END_TEST

START_TEST(test_set)
{
    assert_one("users:alice|s");
    ck_assert_int_eq(recs[0].type, VITALS_RECORD_SET);
    ck_assert(recs[0].has_text);
    ck_assert_str_eq(recs[0].text, "alice");
    ck_assert_double_eq(recs[0].value, 0.0);
    assert_one("users:a:b:c|s"); /* no multi-value for sets: ':' is text */
    ck_assert_str_eq(recs[0].text, "a:b:c");
    assert_one("users:Zoë 東京 ok|s");
    ck_assert_str_eq(recs[0].text, "Zoë 東京 ok");
    assert_one("users:nan|s");
    ck_assert_str_eq(recs[0].text, "nan");
}
END_TEST

START_TEST(test_set_member_limits)
{
    char member[202], line[300];
    memset(member, 'x', sizeof member);
    snprintf(line, sizeof line, "u:%.200s|s", member);
    assert_one(line);
    ck_assert_uint_eq(strlen(recs[0].text), 200);
    snprintf(line, sizeof line, "u:%.201s|s", member);
    assert_rejected(line, "bad set member");
    assert_rejected("u:|s", "bad set member");
}
END_TEST

START_TEST(test_unknown_type)
{
    assert_rejected("x:1|q", "unknown type");
    assert_rejected("x:1|", "unknown type");
    assert_rejected("x:1|C", "unknown type");
    assert_rejected("x:1|mss", "unknown type");
    assert_rejected("x:1|c:abc", "unknown type");
    assert_rejected("x:1|c |#a", "unknown type");
    assert_rejected("x:1", "missing type");
    assert_rejected("x|c", "missing value");
    assert_rejected("x", "missing value");
}
END_TEST

/* ---- sections ------------------------------------------------------------- */

START_TEST(test_sample_rate)
{
    assert_one("x:1|c|@0.25");
    ck_assert_double_eq(recs[0].rate, 0.25);
    assert_one("x:1|ms|@1");
    ck_assert_double_eq(recs[0].rate, 1.0);
    assert_one("x:1|c|@.5|#a:b");
    ck_assert_double_eq(recs[0].rate, 0.5);
    ck_assert_uint_eq(recs[0].tag_count, 1);
    const char *bad[] = {"x:1|c|@0", "x:1|c|@1.5", "x:1|c|@-0.5", "x:1|c|@",
                         "x:1|c|@nan", "x:1|c|@inf", "x:1|c|@0x1p-1", "x:1|c|@ 0.5",
                         "x:1|c|@0.5x", "x:1|c|@1e-400"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], "bad sample rate");
}
END_TEST

START_TEST(test_tags)
{
    assert_one("action:12.5|ms|#name:checkout,ok:true,canary,url:http://x:8/y");
    ck_assert_uint_eq(recs[0].tag_count, 4);
    ck_assert_str_eq(recs[0].keys[0], "name");
    ck_assert_str_eq(recs[0].vals[0], "checkout");
    ck_assert_str_eq(recs[0].keys[1], "ok");
    ck_assert_str_eq(recs[0].vals[1], "true");
    ck_assert_str_eq(recs[0].keys[2], "canary");
    ck_assert_str_eq(recs[0].vals[2], "");
    ck_assert_str_eq(recs[0].keys[3], "url");
    ck_assert_str_eq(recs[0].vals[3], "http://x:8/y");
    ck_assert_str_eq(recs[0].name, "action");
    assert_one("x:1|c|#k:");
    ck_assert_str_eq(recs[0].keys[0], "k");
    ck_assert_str_eq(recs[0].vals[0], "");
    assert_one("x:1|c|#only");
    ck_assert_str_eq(recs[0].keys[0], "only");
    assert_rejected("x:1|c|#", "bad tag");
    assert_rejected("x:1|c|#a,,b", "bad tag");
    assert_rejected("x:1|c|#a,", "bad tag");
    assert_rejected("x:1|c|#:v", "bad tag");
}
END_TEST

/* vitals_record_tag() from the SDK works on what the parser delivers. */
static const char *seen_ok;
static void find_ok(void *user, const vitals_record *r)
{
    (void)user;
    seen_ok = vitals_record_tag(r, "ok");
}

START_TEST(test_tags_with_sdk_lookup)
{
    char line[] = "a:1|ms|#name:x,ok:true"; /* unterminated: parsed from a copy */
    statsd_result r = statsd_parse(line, strlen(line), find_ok, NULL, NULL);
    ck_assert_uint_eq(r.records, 1);
    ck_assert_ptr_nonnull(seen_ok);
}
END_TEST

START_TEST(test_too_many_tags)
{
    char line[STATSD_MAX_LINE];
    int n = snprintf(line, sizeof line, "x:1|c|#");
    for (int i = 0; i < STATSD_MAX_TAGS; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%st%d:%d", i ? "," : "", i, i);
    assert_one(line);
    ck_assert_uint_eq(recs[0].tag_count, STATSD_MAX_TAGS);
    ck_assert_str_eq(recs[0].keys[31], "t31");
    ck_assert_str_eq(recs[0].vals[31], "31");
    snprintf(line + n, sizeof line - (size_t)n, ",one_more");
    assert_rejected(line, "too many tags");
}
END_TEST

START_TEST(test_container_and_timestamp)
{
    assert_one("x:1|c|c:83c0a99c0a54c0c187f461c7980e9b57f3f6a8b0c918c8d93df19a9de6f3fe1d");
    assert_one("x:1|c|T1656581400");
    assert_one("x:1|g|@0.5|#env:prod|c:abc|T1656581400");
    ck_assert_double_eq(recs[0].rate, 0.5);
    ck_assert_str_eq(recs[0].vals[0], "prod");
    assert_rejected("x:1|c|T", "bad timestamp");
    assert_rejected("x:1|c|T12a", "bad timestamp");
    assert_rejected("x:1|c|T-1", "bad timestamp");
}
END_TEST

START_TEST(test_unknown_and_duplicate_fields)
{
    assert_rejected("x:1|c|x", "unknown field");
    assert_rejected("x:1|c|", "unknown field");
    assert_rejected("x:1|c||#a", "unknown field");
    assert_rejected("x:1|c|c", "unknown field");
    assert_rejected("x:1|c|c=abc", "unknown field");
    assert_rejected("x:1|c|@0.5|@0.5", "duplicate field");
    assert_rejected("x:1|c|#a|#b", "duplicate field");
    assert_rejected("x:1|c|T1|T2", "duplicate field");
}
END_TEST

/* ---- names and values ------------------------------------------------------ */

START_TEST(test_names)
{
    assert_one("Az09_.-:1|c");
    char line[STATSD_MAX_NAME + 16];
    memset(line, 'n', STATSD_MAX_NAME);
    strcpy(line + STATSD_MAX_NAME, ":1|c");
    assert_one(line);
    ck_assert_uint_eq(strlen(recs[0].name), STATSD_MAX_NAME);
    memset(line, 'n', STATSD_MAX_NAME + 1);
    strcpy(line + STATSD_MAX_NAME + 1, ":1|c");
    assert_rejected(line, "bad metric name");
    const char *bad[] = {":1|c", " x:1|c", "x y:1|c", "x/y:1|c", "é:1|c", "x\t:1|c", "x#:1|c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], "bad metric name");
}
END_TEST

START_TEST(test_bad_values)
{
    const char *bad[] = {"x:|c",      "x:nan|c", "x:NaN|g",  "x:inf|c",  "x:-inf|g",
                         "x:0x1p3|c", "x:0x10|c", "x: 1|c",  "x:1 |c",   "x:1e|c",
                         "x:.|c",     "x:+|g",   "x:1..2|c", "x:--1|g",  "x:1e999|c",
                         "x:1,5|c",   "x:1e+|c", "x:e5|c",   "x:1.2.3|ms", "x:\t1|c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], "bad value");
    assert_rejected("x:-1|ms", "negative timing");
    assert_rejected("x:-0.001|h", "negative timing");
    assert_one("x:.5|c");
    assert_one("x:5.|c");
    assert_one("x:-1.5E-2|c");
    ck_assert_double_eq_tol(recs[0].value, -0.015, 1e-12);
}
END_TEST

START_TEST(test_multi_value)
{
    statsd_result r = parse("lat:1:2.5:3|ms|#k:v");
    ck_assert_uint_eq(r.records, 3);
    ck_assert_uint_eq(r.rejected, 0);
    double want[] = {1, 2.5, 3};
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(recs[i].name, "lat");
        ck_assert_double_eq(recs[i].value, want[i]);
        ck_assert_str_eq(recs[i].vals[0], "v");
    }
    r = parse("g:5:+1:-2|g");
    ck_assert_uint_eq(r.records, 3);
    ck_assert(!recs[0].delta && recs[1].delta && recs[2].delta);
    /* One bad value refuses the whole line: all or nothing. */
    assert_rejected("lat:1:x:3|ms", "bad value");
    assert_rejected("lat:1::3|ms", "bad value");
    assert_rejected("lat:1:2:|ms", "bad value");
    assert_rejected("lat:1:-2|ms", "negative timing");
}
END_TEST

/* ---- lines and datagrams ---------------------------------------------------- */

START_TEST(test_several_lines_one_bad)
{
    const char *d = "a:1|c\nb:2|g\nbad line here\nc:3:4|ms\nd:x|s";
    statsd_result r = parse(d);
    ck_assert_uint_eq(r.records, 5);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(rejs[0].line, "bad line here");
    ck_assert_uint_eq(rejs[0].len, 13);
    ck_assert_str_eq(rejs[0].why, "missing value");
    ck_assert_str_eq(recs[0].name, "a");
    ck_assert_str_eq(recs[1].name, "b");
    ck_assert_str_eq(recs[2].name, "c");
    ck_assert_str_eq(recs[3].name, "c");
    ck_assert_str_eq(recs[4].name, "d");
    ck_assert_str_eq(recs[4].text, "x");
}
END_TEST

START_TEST(test_reject_sees_line_intact)
{
    /* Parsing reached the tags before failing; nothing was overwritten. */
    parse("a:1|c|#k:v,k2:v2|zzz\nok:1|c");
    ck_assert_uint_eq(nrejs, 1);
    ck_assert_str_eq(rejs[0].line, "a:1|c|#k:v,k2:v2|zzz");
    ck_assert_str_eq(rejs[0].why, "unknown field");
    ck_assert_uint_eq(nrecs, 1);
}
END_TEST

START_TEST(test_empty_datagrams)
{
    statsd_result r = parse("");
    ck_assert_uint_eq(r.records + r.rejected, 0);
    r = statsd_parse(NULL, 0, on_record, on_reject, &nrecs);
    ck_assert_uint_eq(r.records + r.rejected, 0);
    r = parse("\n\n\n");
    ck_assert_uint_eq(r.records + r.rejected, 0);
    r = parse("\r\n\r\n\n\r");
    ck_assert_uint_eq(r.records + r.rejected, 0);
    r = parse("a:1|c\n");
    ck_assert_uint_eq(r.records, 1);
    ck_assert_uint_eq(r.rejected, 0);
    r = parse("\n\na:1|c\n\n");
    ck_assert_uint_eq(r.records, 1);
    ck_assert_uint_eq(r.rejected, 0);
}
END_TEST

START_TEST(test_crlf)
{
    statsd_result r = parse("a:1|c\r\nb:2|ms|#k:v\r\nc:x|s\r\n");
    ck_assert_uint_eq(r.records, 3);
    ck_assert_uint_eq(r.rejected, 0);
    ck_assert_str_eq(recs[1].vals[0], "v");
    ck_assert_str_eq(recs[2].text, "x");
    r = parse("a:1|c|#k:v\r"); /* a lone '\r' closing the datagram */
    ck_assert_uint_eq(r.records, 1);
    ck_assert_str_eq(recs[0].vals[0], "v");
    assert_rejected("a:1|c\r\r\n", "unknown type");
}
END_TEST

START_TEST(test_nul_and_binary)
{
    statsd_result r = parse_n("a:1|c\nb:\0|c\nc:2|c", 17);
    ck_assert_uint_eq(r.records, 2);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(rejs[0].why, "binary data");
    ck_assert_uint_eq(rejs[0].len, 5);
    r = parse_n("a:1|c\0", 6);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(rejs[0].why, "binary data");
    const char *bad[] = {"u:\xff|s", "u:\xc0\xaf|s", "u:\xed\xa0\x80|s", "u:\xf4\x90\x80\x80|s",
                         "u:\xe2\x82|s", "u:\x80|s", "a:1|c|#k:\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_rejected(bad[i], "binary data");
    assert_one("u:\xf0\x9f\x98\x80|s");
}
END_TEST

START_TEST(test_events_and_service_checks)
{
    const char *why = "events and service checks are not supported";
    assert_rejected("_e{5,4}:title|text|#a:b", why);
    assert_rejected("_sc|my.check|0|#a:b", why);
    statsd_result r = parse("_e{1,1}:t|x\nok:1|c");
    ck_assert_uint_eq(r.records, 1);
    ck_assert_uint_eq(r.rejected, 1);
}
END_TEST

/* ---- size limits and garbage ------------------------------------------------ */

START_TEST(test_line_length_limit)
{
    char *line = malloc(STATSD_MAX_LINE + 2);
    memset(line, 'x', STATSD_MAX_LINE + 1);
    memcpy(line, "u:", 2);
    /* Exactly STATSD_MAX_LINE bytes: parsed (and refused for its member). */
    memcpy(line + STATSD_MAX_LINE - 2, "|s", 2);
    statsd_result r = parse_n(line, STATSD_MAX_LINE);
    ck_assert_str_eq(rejs[0].why, "bad set member");
    memcpy(line + STATSD_MAX_LINE - 2, "x|s", 3);
    r = parse_n(line, STATSD_MAX_LINE + 1);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(rejs[0].why, "line too long");
    ck_assert_uint_eq(rejs[0].len, STATSD_MAX_LINE + 1);
    free(line);
}
END_TEST

START_TEST(test_huge_datagram)
{
    size_t cap = 64 * 1024, n = 0, lines = 0;
    char *d = malloc(cap);
    for (;;) {
        char one[64];
        int k = snprintf(one, sizeof one, "metric.%zu:%zu|ms|#name:checkout,ok:true\n", lines,
                         lines % 100);
        if (n + (size_t)k > cap)
            break;
        memcpy(d + n, one, (size_t)k);
        n += (size_t)k;
        lines++;
    }
    statsd_result r = parse_n(d, n);
    ck_assert_uint_gt(lines, 1000);
    ck_assert_uint_eq(r.records, lines);
    ck_assert_uint_eq(r.rejected, 0);
    free(d);
}
END_TEST

START_TEST(test_huge_line_among_good_ones)
{
    size_t big = 10 * 1024;
    char *d = malloc(big + 64);
    size_t n = (size_t)sprintf(d, "a:1|c\n");
    memset(d + n, 'x', big);
    memcpy(d + n, "big:1|c|#", 9);
    n += big;
    n += (size_t)sprintf(d + n, "\nb:2|c");
    statsd_result r = parse_n(d, n);
    ck_assert_uint_eq(r.records, 2);
    ck_assert_uint_eq(r.rejected, 1);
    ck_assert_str_eq(rejs[0].why, "line too long");
    ck_assert_uint_eq(rejs[0].len, big);
    ck_assert_str_eq(recs[1].name, "b");
    free(d);
}
END_TEST

/*
 * The invariant for any input: parsing the datagram whole gives the same
 * counts as parsing each of its lines alone (which goes through the copy
 * path for unterminated lines), and each non-empty line alone yields either
 * one reject or at least one record, never both.
 */
static void check_line_by_line(const char *buf, size_t len)
{
    size_t records = 0, rejected = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        size_t n = i - start;
        statsd_result one = parse_n(buf + start, n);
        if (n > 0 && buf[start + n - 1] == '\r')
            n--;
        if (n == 0)
            ck_assert_uint_eq(one.records + one.rejected, 0);
        else
            ck_assert((one.rejected == 1 && one.records == 0) ||
                      (one.rejected == 0 && one.records >= 1));
        records += one.records;
        rejected += one.rejected;
        start = i + 1;
    }
    statsd_result whole = parse_n(buf, len);
    ck_assert_uint_eq(whole.records, records);
    ck_assert_uint_eq(whole.rejected, rejected);
}

START_TEST(test_random_garbage)
{
    srand(12345);
    static char buf[9000];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = (size_t)rand() % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(rand() & 0xff);
        if (iter % 2 == 0) /* make newlines and short lines common */
            for (size_t i = 0; i < len; i += 1 + (size_t)rand() % 40)
                buf[i] = '\n';
        check_line_by_line(buf, len);
    }
}
END_TEST

START_TEST(test_mutated_lines)
{
    /* Valid lines with a few bytes replaced by meaningful ones. */
    const char *seeds[] = {"action:12.5|ms|#name:checkout,ok:true", "g:+1:2|g|@0.5|T123",
                           "u:Zo\xc3\xab|s|#a|c:x", "c:1|c\r"};
    const char alphabet[] = "|:#@,.-+eE0123456789\r\n\0xTcs\xc3\xab";
    srand(777);
    size_t delivered = 0;
    for (int iter = 0; iter < 6000; iter++) {
        char buf[64];
        const char *seed = seeds[iter % 4];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        for (int k = rand() % 3; k >= 0; k--)
            buf[(size_t)rand() % len] = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
        check_line_by_line(buf, len);
        delivered += nrecs;
    }
    ck_assert_uint_gt(delivered, 500); /* the mutations do not all break lines */
}
END_TEST

START_TEST(test_null_callbacks)
{
    char d[] = "a:1:2|c\nbad\nu:x|s";
    statsd_result r = statsd_parse(d, strlen(d), NULL, NULL, NULL);
    ck_assert_uint_eq(r.records, 3);
    ck_assert_uint_eq(r.rejected, 1);
}
END_TEST

static Suite *statsd_suite(void)
{
    Suite *s = suite_create("statsd");
    TCase *types = tcase_create("types");
    tcase_add_test(types, test_timing_types);
    tcase_add_test(types, test_counter);
    tcase_add_test(types, test_gauge);
    tcase_add_test(types, test_set);
    tcase_add_test(types, test_set_member_limits);
    tcase_add_test(types, test_unknown_type);
    suite_add_tcase(s, types);

    TCase *sections = tcase_create("sections");
    tcase_add_test(sections, test_sample_rate);
    tcase_add_test(sections, test_tags);
    tcase_add_test(sections, test_tags_with_sdk_lookup);
    tcase_add_test(sections, test_too_many_tags);
    tcase_add_test(sections, test_container_and_timestamp);
    tcase_add_test(sections, test_unknown_and_duplicate_fields);
    suite_add_tcase(s, sections);

    TCase *values = tcase_create("names_and_values");
    tcase_add_test(values, test_names);
    tcase_add_test(values, test_bad_values);
    tcase_add_test(values, test_multi_value);
    suite_add_tcase(s, values);

    TCase *lines = tcase_create("lines");
    tcase_add_test(lines, test_several_lines_one_bad);
    tcase_add_test(lines, test_reject_sees_line_intact);
    tcase_add_test(lines, test_empty_datagrams);
    tcase_add_test(lines, test_crlf);
    tcase_add_test(lines, test_nul_and_binary);
    tcase_add_test(lines, test_events_and_service_checks);
    tcase_add_test(lines, test_null_callbacks);
    suite_add_tcase(s, lines);

    TCase *limits = tcase_create("limits_and_garbage");
    tcase_add_test(limits, test_line_length_limit);
    tcase_add_test(limits, test_huge_datagram);
    tcase_add_test(limits, test_huge_line_among_good_ones);
    tcase_add_test(limits, test_random_garbage);
    tcase_add_test(limits, test_mutated_lines);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return vitals_run_suite(statsd_suite());
}
