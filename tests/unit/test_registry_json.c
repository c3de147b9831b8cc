/* test_registry_json.c — the JSON shapes of docs/protocol.md. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "registry_json.h"
#include "run_suite.h"

static vitals_registry *reg;
static vitals_metric *cpu, *total, *action, *latency;

static void setup(void)
{
    reg = vitals_registry_new(10);
    vitals_metric_desc d = {.id = "system.cpu_percent", .title = "CPU", .unit = "percent",
                            .kind = VITALS_GAUGE, .chart = "system.cpu", .chart_title = "CPU",
                            .style = VITALS_AREA, .has_min = true, .min = 0, .has_max = true,
                            .max = 100, .precision = 1, .priority = 10, .card = true,
                            .has_warn = true, .warn = 70, .has_crit = true, .crit = 90};
    cpu = vitals_registry_add(reg, "system", &d, NULL);
    d = (vitals_metric_desc){.id = "app.total", .title = "Total", .kind = VITALS_COUNTER,
                             .chart = "app.rate", .axis = VITALS_AXIS_RIGHT};
    total = vitals_registry_add(reg, "app", &d, NULL);
    d = (vitals_metric_desc){.id = "other_id", .title = "Now", .kind = VITALS_TEXT};
    action = vitals_registry_add(reg, "app", &d, NULL);
    d = (vitals_metric_desc){.id = "app.latency", .title = "Latency", .unit = "seconds",
                             .kind = VITALS_HISTOGRAM};
    latency = vitals_registry_add(reg, "app", &d, NULL);
}

static void teardown(void) { vitals_registry_free(reg); }

/* Encodes and re-parses, so assertions read the wire, not the builder. */
static json_t *wire(json_t *built)
{
    char *text = vitals_json_dump(built, NULL);
    json_t *parsed = json_loads(text, 0, NULL);
    free(text);
    ck_assert_ptr_nonnull(parsed);
    return parsed;
}

START_TEST(test_descriptor_fields)
{
    vitals_desc_set *set = vitals_registry_descriptors(reg);
    json_t *d = wire(vitals_json_descriptor(set->items[0]));
    ck_assert_str_eq(json_string_value(json_object_get(d, "id")), "system.cpu_percent");
    ck_assert_str_eq(json_string_value(json_object_get(d, "plugin")), "system");
    ck_assert_str_eq(json_string_value(json_object_get(d, "kind")), "gauge");
    ck_assert_str_eq(json_string_value(json_object_get(d, "style")), "area");
    ck_assert_str_eq(json_string_value(json_object_get(d, "axis")), "left");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "max")), 100);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "warn")), 70);
    ck_assert(json_is_true(json_object_get(d, "card")));
    json_decref(d);

    /* Unset hints are absent rather than zero. */
    d = wire(vitals_json_descriptor(set->items[2]));
    ck_assert_ptr_null(json_object_get(d, "chart"));
    ck_assert_ptr_null(json_object_get(d, "min"));
    ck_assert_ptr_null(json_object_get(d, "warn"));
    ck_assert_str_eq(json_string_value(json_object_get(d, "unit")), "");
    json_decref(d);
    d = wire(vitals_json_descriptor(set->items[1]));
    ck_assert_str_eq(json_string_value(json_object_get(d, "axis")), "right");
    ck_assert_str_eq(json_string_value(json_object_get(d, "chart_title")), "Total");
    json_decref(d);
    vitals_desc_set_unref(set);
}
END_TEST

START_TEST(test_sample_values_in_descriptor_order)
{
    vitals_metric_set(cpu, 12.25);
    vitals_metric_set(total, 7);
    vitals_metric_set_text(action, "say \"hi\"\n");
    vitals_metric_observe(latency, 0.5);
    vitals_frame *f = vitals_registry_snapshot(reg, 1764277895.125);
    size_t len = 0;
    char *text = vitals_json_dump(vitals_json_sample(f), &len);
    ck_assert_uint_eq(len, strlen(text));
    /* Whole numbers are integers; the timestamp keeps its milliseconds. */
    ck_assert_str_eq(text, "{\"type\":\"sample\",\"seq\":1,\"ts\":1764277895.125,\"values\":"
                           "[12.25,7,\"say \\\"hi\\\"\\n\",[1,0.5,0.5,0.5,0.5]]}");
    free(text);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_dashboards_get_values_rounded_for_the_eye)
{
    /* cpu: a gauge with precision 1; total: an exact counter; latency: a
     * histogram with precision 0, so three significant digits rule */
    vitals_metric_set(cpu, 98.9110707803993);
    vitals_metric_set(total, 1.23456789);
    vitals_metric_observe(latency, 0.0970545045372051);
    vitals_frame *f = vitals_registry_snapshot(reg, 1764277895.125);
    char *text = vitals_json_dump(vitals_json_sample(f), NULL);
    ck_assert_str_eq(text, "{\"type\":\"sample\",\"seq\":1,\"ts\":1764277895.125,\"values\":"
                           "[98.91,1.23456789,null,[1,0.0971,0.0971,0.0971,0.0971]]}");
    free(text);

    /* the hello's history is rounded alike; the JSON API is not */
    size_t len;
    uint64_t seq;
    text = vitals_json_hello_text(reg, 1.0, &len, &seq);
    ck_assert_ptr_nonnull(strstr(text, "[[98.91],[1.23456789],[null],[[1,0.0971,0.0971,0.0971,0.0971]]]"));
    free(text);
    json_t *m = wire(vitals_json_metrics(f));
    json_t *system = json_object_get(json_object_get(m, "plugins"), "system");
    ck_assert_double_eq(json_real_value(json_object_get(system, "cpu_percent")), 98.9110707803993);
    json_decref(m);
    vitals_frame_unref(f);

    /* big values keep one digit past the precision, tiny ones three significant */
    vitals_metric_set(cpu, 123456.789);
    vitals_metric_set(total, 5);
    f = vitals_registry_snapshot(reg, 1764277896.125);
    text = vitals_json_dump(vitals_json_sample(f), NULL);
    ck_assert_ptr_nonnull(strstr(text, "[123456.79,5,"));
    free(text);
    vitals_frame_unref(f);
    vitals_metric_set(cpu, 0.000123456);
    f = vitals_registry_snapshot(reg, 1764277897.125);
    text = vitals_json_dump(vitals_json_sample(f), NULL);
    ck_assert_ptr_nonnull(strstr(text, "[0.000123,5,"));
    free(text);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_gaps_and_empty_histograms_are_null)
{
    vitals_frame *f = vitals_registry_snapshot(reg, 1.0);
    json_t *s = wire(vitals_json_sample(f));
    json_t *values = json_object_get(s, "values");
    ck_assert(json_is_null(json_array_get(values, 0)));
    ck_assert(json_is_null(json_array_get(values, 2)));
    json_t *h = json_array_get(values, 3);
    ck_assert_int_eq(json_integer_value(json_array_get(h, 0)), 0);
    ck_assert(json_is_null(json_array_get(h, 3)));
    json_decref(s);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_metrics_grouped_by_plugin)
{
    json_t *empty = wire(vitals_json_metrics(NULL));
    ck_assert(json_is_object(json_object_get(empty, "plugins")));
    ck_assert(json_is_null(json_object_get(empty, "seq")));
    json_decref(empty);
    vitals_metric_set(cpu, 3);
    vitals_frame *f = vitals_registry_snapshot(reg, 5.0);
    json_t *m = wire(vitals_json_metrics(f));
    json_t *plugins = json_object_get(m, "plugins");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(plugins, "system"), "cpu_percent")), 3);
    /* The "<plugin>." prefix goes; other ids stay whole. */
    ck_assert_ptr_nonnull(json_object_get(json_object_get(plugins, "app"), "total"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(plugins, "app"), "other_id"));
    ck_assert_int_eq(json_integer_value(json_object_get(m, "seq")), 1);
    json_decref(m);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_hello_carries_aligned_history)
{
    for (int i = 0; i < 3; i++) {
        vitals_metric_set(cpu, i);
        vitals_frame_unref(vitals_registry_snapshot(reg, 10.0 + i));
    }
    size_t len = 0;
    uint64_t seq = 0;
    char *text = vitals_json_hello_text(reg, 1.0, &len, &seq);
    json_t *hello = json_loads(text, 0, NULL);
    free(text);
    ck_assert_uint_eq(seq, 3);
    ck_assert_str_eq(json_string_value(json_object_get(hello, "type")), "hello");
    ck_assert_int_eq(json_integer_value(json_object_get(hello, "protocol")), 2);
    json_t *history = json_object_get(hello, "history");
    ck_assert_uint_eq(json_array_size(json_object_get(history, "ts")), 3);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(history, "seq"), 2)), 3);
    json_t *columns = json_object_get(history, "values");
    ck_assert_uint_eq(json_array_size(columns), json_array_size(json_object_get(hello, "descriptors")));
    ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(columns, 0), 2)), 2);
    json_decref(hello);
}
END_TEST

/* Sets metric k of `m` to seq * 10 + k, ticks (frame `seq` at 100 + seq)
 * and returns the sample's text. */
static char *sample_at(vitals_registry *r, vitals_metric **m, int n, guint64 seq)
{
    for (int k = 0; k < n; k++)
        vitals_metric_set(m[k], (double)(seq * 10 + (guint64)k));
    vitals_frame *f = vitals_registry_snapshot(r, 100.0 + (double)seq);
    ck_assert_uint_eq(f->seq, seq);
    char *text = vitals_json_dump(vitals_json_sample(f), NULL);
    vitals_frame_unref(f);
    return text;
}

START_TEST(test_slow_metrics_are_carried_staggered)
{
    /* Registered slow, fast, slow, slow (k = 0..3): the set puts the fast
     * one first, so index 0 = k1 (every sample), 1 = k0 (E 3), 2 = k2 (E 3),
     * 3 = k3 (E 2).  Index i is due when (seq + i) % E == 0: index 1 at
     * seq 2, 5 …, index 2 at 1, 4 …, index 3 at odd seqs. */
    vitals_registry *r = vitals_registry_new(10);
    const char *ids[] = {"p.s3a", "p.fast", "p.s3b", "p.s2"};
    const int every[] = {3, 0, 3, 2};
    vitals_metric *m[4];
    for (int k = 0; k < 4; k++) {
        vitals_metric_desc d = {.id = ids[k], .title = "M", .kind = VITALS_GAUGE,
                                .stream_every = every[k]};
        m[k] = vitals_registry_add(r, "p", &d, NULL);
        ck_assert_ptr_nonnull(m[k]);
    }
    const char *want[] = {
        "{\"type\":\"sample\",\"seq\":1,\"ts\":101,\"values\":[11,12,13]}",
        "{\"type\":\"sample\",\"seq\":2,\"ts\":102,\"values\":[21,20]}",
        "{\"type\":\"sample\",\"seq\":3,\"ts\":103,\"values\":[31,33]}",
        "{\"type\":\"sample\",\"seq\":4,\"ts\":104,\"values\":[41,42]}",
        "{\"type\":\"sample\",\"seq\":5,\"ts\":105,\"values\":[51,50,53]}",
        "{\"type\":\"sample\",\"seq\":6,\"ts\":106,\"values\":[61]}",
    };
    for (guint64 seq = 1; seq <= G_N_ELEMENTS(want); seq++) {
        char *text = sample_at(r, m, 4, seq);
        ck_assert_str_eq(text, want[seq - 1]);
        free(text);
    }

    /* The descriptors say which are slow; the hello's columns hold what the
     * stream carried, its seq and ts columns every sample. */
    size_t len;
    uint64_t newest;
    char *text = vitals_json_hello_text(r, 1.0, &len, &newest);
    json_t *hello = json_loads(text, 0, NULL);
    free(text);
    ck_assert_uint_eq(newest, 6);
    json_t *descs = json_object_get(hello, "descriptors");
    ck_assert_ptr_null(json_object_get(json_array_get(descs, 0), "stream_every"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(descs, 1), "stream_every")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(descs, 3), "stream_every")), 2);
    json_t *history = json_object_get(hello, "history");
    char *columns = json_dumps(json_object_get(history, "values"), JSON_COMPACT);
    ck_assert_str_eq(columns, "[[11,21,31,41,51,61],[20,50],[12,42],[13,33,53]]");
    free(columns);
    ck_assert_uint_eq(json_array_size(json_object_get(history, "seq")), 6);
    ck_assert_uint_eq(json_array_size(json_object_get(history, "ts")), 6);
    json_decref(hello);
    vitals_registry_free(r);
}
END_TEST

START_TEST(test_stream_times_are_whole_milliseconds)
{
    vitals_metric_set(cpu, 1);
    vitals_frame *f = vitals_registry_snapshot(reg, 1764277895.12521);
    char *text = vitals_json_dump(vitals_json_sample(f), NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"ts\":1764277895.125,"));
    free(text);
    /* the WebSocket metrics answer and the hello agree with the sample… */
    text = vitals_json_metrics_text(reg, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"ts\":1764277895.125,"));
    free(text);
    size_t len;
    uint64_t seq;
    text = vitals_json_hello_text(reg, 1.0, &len, &seq);
    ck_assert_ptr_nonnull(strstr(text, "\"ts\":[1764277895.125]"));
    free(text);
    /* …while the JSON API keeps what the clock gave */
    json_t *m = wire(vitals_json_metrics(f));
    ck_assert_double_eq_tol(json_real_value(json_object_get(m, "ts")), 1764277895.12521, 1e-6);
    ck_assert_double_ne(json_real_value(json_object_get(m, "ts")), 1764277895.125);
    json_decref(m);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_history_for_one_metric)
{
    vitals_metric_set(cpu, 1.5);
    vitals_frame_unref(vitals_registry_snapshot(reg, 20.0));
    vitals_history *h = vitals_registry_history(reg, 0, 0, 0);
    json_t *j = wire(vitals_json_history_metric(h));
    vitals_history_free(h);
    ck_assert_str_eq(json_string_value(json_object_get(j, "metric")), "system.cpu_percent");
    ck_assert_str_eq(json_string_value(json_object_get(j, "unit")), "percent");
    ck_assert(json_real_value(json_array_get(json_object_get(j, "values"), 0)) == 1.5);
    json_decref(j);
}
END_TEST

START_TEST(test_non_finite_numbers_never_reach_the_wire)
{
    vitals_value v = {.type = VITALS_VALUE_NUMBER, .number = INFINITY};
    json_t *j = vitals_json_value(&v);
    ck_assert(json_is_null(j));
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry_json");
    TCase *tc = tcase_create("encoding");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_descriptor_fields);
    tcase_add_test(tc, test_sample_values_in_descriptor_order);
    tcase_add_test(tc, test_dashboards_get_values_rounded_for_the_eye);
    tcase_add_test(tc, test_gaps_and_empty_histograms_are_null);
    tcase_add_test(tc, test_metrics_grouped_by_plugin);
    tcase_add_test(tc, test_hello_carries_aligned_history);
    tcase_add_test(tc, test_slow_metrics_are_carried_staggered);
    tcase_add_test(tc, test_stream_times_are_whole_milliseconds);
    tcase_add_test(tc, test_history_for_one_metric);
    tcase_add_test(tc, test_non_finite_numbers_never_reach_the_wire);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
