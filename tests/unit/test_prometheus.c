/*
 * test_prometheus.c — the exact /metrics text (Prometheus 0.0.4 and
 * OpenMetrics 1.0) for a small hand-made registry: names, kinds, labelled
 * families, gaps, escaping, collisions left out, and the Accept header.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "prometheus.h"
#include "run_suite.h"

static vitals_registry *reg;

/* Registers `d` for plugin "app" and asserts the registry took it. */
static vitals_metric *add(vitals_metric_desc d)
{
    GError *error = NULL;
    vitals_metric *m = vitals_registry_add(reg, "app", &d, &error);
    ck_assert_msg(m != NULL, "%s", error ? error->message : "?");
    return m;
}

static void setup(void)
{
    vitals_log_set_level(VITALS_LOG_ERROR);
    reg = vitals_registry_new(10);
}

static void teardown(void) { vitals_registry_free(reg); }

/* Asserts got == want, naming the first line that differs (check cannot
 * print whole pages in one message). */
static void assert_text(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    char **g = g_strsplit(got, "\n", -1), **w = g_strsplit(want, "\n", -1);
    guint i = 0;
    while (g[i] && w[i] && strcmp(g[i], w[i]) == 0)
        i++;
    ck_assert_msg(FALSE, "line %u: got [%s], want [%s]", i + 1, g[i] ? g[i] : "(end)",
                  w[i] ? w[i] : "(end)");
    g_strfreev(g);
    g_strfreev(w);
}

/* The registry every exact-text test renders, and one tick of it. */
static vitals_frame *sample_frame(void)
{
    vitals_metric_set(add((vitals_metric_desc){.id = "sys.cpu-load", .title = "CPU load",
                                               .description = "Load \\ of\nthe CPU",
                                               .kind = VITALS_GAUGE}),
                      0.1);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.requests", .title = "Requests",
                                               .kind = VITALS_COUNTER}),
                      42);
    vitals_metric_add(add((vitals_metric_desc){.id = "app.total", .title = "Total",
                                               .description = "All of them",
                                               .kind = VITALS_COUNTER}),
                      7);
    vitals_metric *latency = add((vitals_metric_desc){
        .id = "app.latency", .title = "Latency", .description = "How long \"it\" took",
        .unit = "seconds", .kind = VITALS_HISTOGRAM});
    static const double observed[] = {0.75, 0.25, 1, 0.5};
    for (size_t i = 0; i < G_N_ELEMENTS(observed); i++)
        vitals_metric_observe(latency, observed[i]);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.by_name.a.count", .title = "a",
                                               .description = "Requests by name",
                                               .kind = VITALS_COUNTER,
                                               .family = "app.by_name.count",
                                               .labels = "name=a"}),
                      3);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.by_name.b.count", .title = "b",
                                               .description = "Not the family's HELP",
                                               .kind = VITALS_COUNTER,
                                               .family = "app.by_name.count",
                                               .labels = "name=b"}),
                      2.5);
    add((vitals_metric_desc){.id = "app.idle", .title = "Idle", .kind = VITALS_GAUGE});
    vitals_metric_set_text(add((vitals_metric_desc){.id = "app.current", .title = "Now",
                                                    .kind = VITALS_TEXT}),
                           "say \"hi\"\\\n");
    add((vitals_metric_desc){.id = "app.by_name.a.duration", .title = "a duration",
                             .description = "Duration by name", .kind = VITALS_HISTOGRAM,
                             .family = "app.by_name.duration", .labels = "zone=eu,name=a"});
    vitals_metric_set(add((vitals_metric_desc){.id = "app.ratio", .title = "Ratio",
                                               .kind = VITALS_GAUGE}),
                      1.0 / 3);

    /* Left out: names taken by earlier families, a repeated label set, a
     * label the kind needs itself, a family of another kind. */
    vitals_metric_set(add((vitals_metric_desc){.id = "up", .title = "Up", .kind = VITALS_GAUGE}),
                      5);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.latency_sum", .title = "Sum",
                                               .kind = VITALS_GAUGE}),
                      5);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.by_name.c.count", .title = "c",
                                               .kind = VITALS_COUNTER,
                                               .family = "app.by_name.count",
                                               .labels = "name=a"}),
                      5);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.requests.total", .title = "Again",
                                               .kind = VITALS_GAUGE}),
                      5);
    vitals_metric_observe(add((vitals_metric_desc){.id = "app.q", .title = "Q",
                                                   .kind = VITALS_HISTOGRAM,
                                                   .labels = "quantile=x"}),
                          5);
    vitals_metric_set(add((vitals_metric_desc){.id = "app.by_name.d.count", .title = "d",
                                               .kind = VITALS_GAUGE,
                                               .family = "app.by_name.count",
                                               .labels = "name=d"}),
                      5);
    return vitals_registry_snapshot(reg, 1764277895.125);
}

#define BUILTINS_TEXT                                                    \
    "# HELP vitals_up 1 when the vitals host answers\n"                  \
    "# TYPE vitals_up gauge\n"                                           \
    "vitals_up 1\n"                                                      \
    "# HELP vitals_build_info The version of the vitals host\n"         \
    "# TYPE vitals_build_info gauge\n"                                   \
    "vitals_build_info{version=\"" VITALS_VERSION "\"} 1\n"

#define BUILTINS_OPENMETRICS                                             \
    "# HELP vitals_up 1 when the vitals host answers\n"                  \
    "# TYPE vitals_up gauge\n"                                           \
    "vitals_up 1\n"                                                      \
    "# HELP vitals_build The version of the vitals host\n"              \
    "# TYPE vitals_build info\n"                                         \
    "vitals_build_info{version=\"" VITALS_VERSION "\"} 1\n"

START_TEST(test_text_format_exact)
{
    vitals_frame *f = sample_frame();
    size_t len = 0;
    char *text = vitals_prometheus_render(f, FALSE, &len);
    assert_text(text,
        BUILTINS_TEXT
        "# HELP vitals_sys_cpu_load Load \\\\ of\\nthe CPU\n"
        "# TYPE vitals_sys_cpu_load gauge\n"
        "vitals_sys_cpu_load 0.1\n"
        "# HELP vitals_app_requests_total Requests\n"
        "# TYPE vitals_app_requests_total counter\n"
        "vitals_app_requests_total 42\n"
        "# HELP vitals_app_total All of them\n"
        "# TYPE vitals_app_total counter\n"
        "vitals_app_total 7\n"
        "# HELP vitals_app_latency How long \"it\" took\n"
        "# TYPE vitals_app_latency summary\n"
        "vitals_app_latency{quantile=\"0.5\"} 0.5\n"
        "vitals_app_latency{quantile=\"0.95\"} 1\n"
        "vitals_app_latency{quantile=\"0.99\"} 1\n"
        "vitals_app_latency_sum 2.5\n"
        "vitals_app_latency_count 4\n"
        "# HELP vitals_app_by_name_count_total Requests by name\n"
        "# TYPE vitals_app_by_name_count_total counter\n"
        "vitals_app_by_name_count_total{name=\"a\"} 3\n"
        "vitals_app_by_name_count_total{name=\"b\"} 2.5\n"
        "# HELP vitals_app_idle Idle\n"
        "# TYPE vitals_app_idle gauge\n"
        "# HELP vitals_app_current_info Now\n"
        "# TYPE vitals_app_current_info gauge\n"
        "vitals_app_current_info{value=\"say \\\"hi\\\"\\\\\\n\"} 1\n"
        "# HELP vitals_app_by_name_duration Duration by name\n"
        "# TYPE vitals_app_by_name_duration summary\n"
        "vitals_app_by_name_duration_sum{name=\"a\",zone=\"eu\"} 0\n"
        "vitals_app_by_name_duration_count{name=\"a\",zone=\"eu\"} 0\n"
        "# HELP vitals_app_ratio Ratio\n"
        "# TYPE vitals_app_ratio gauge\n"
        "vitals_app_ratio 0.3333333333333333\n");
    ck_assert_uint_eq(len, strlen(text));
    g_free(text);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_openmetrics_exact)
{
    vitals_frame *f = sample_frame();
    size_t len = 0;
    char *text = vitals_prometheus_render(f, TRUE, &len);
    assert_text(text,
        BUILTINS_OPENMETRICS
        "# HELP vitals_sys_cpu_load Load \\\\ of\\nthe CPU\n"
        "# TYPE vitals_sys_cpu_load gauge\n"
        "vitals_sys_cpu_load 0.1\n"
        "# HELP vitals_app_requests Requests\n"
        "# TYPE vitals_app_requests counter\n"
        "vitals_app_requests_total 42\n"
        "# HELP vitals_app All of them\n"
        "# TYPE vitals_app counter\n"
        "vitals_app_total 7\n"
        "# HELP vitals_app_latency How long \\\"it\\\" took\n"
        "# TYPE vitals_app_latency summary\n"
        "vitals_app_latency{quantile=\"0.5\"} 0.5\n"
        "vitals_app_latency{quantile=\"0.95\"} 1\n"
        "vitals_app_latency{quantile=\"0.99\"} 1\n"
        "vitals_app_latency_sum 2.5\n"
        "vitals_app_latency_count 4\n"
        "# HELP vitals_app_by_name_count Requests by name\n"
        "# TYPE vitals_app_by_name_count counter\n"
        "vitals_app_by_name_count_total{name=\"a\"} 3\n"
        "vitals_app_by_name_count_total{name=\"b\"} 2.5\n"
        "# HELP vitals_app_idle Idle\n"
        "# TYPE vitals_app_idle gauge\n"
        "# HELP vitals_app_current Now\n"
        "# TYPE vitals_app_current info\n"
        "vitals_app_current_info{value=\"say \\\"hi\\\"\\\\\\n\"} 1\n"
        "# HELP vitals_app_by_name_duration Duration by name\n"
        "# TYPE vitals_app_by_name_duration summary\n"
        "vitals_app_by_name_duration_sum{name=\"a\",zone=\"eu\"} 0\n"
        "vitals_app_by_name_duration_count{name=\"a\",zone=\"eu\"} 0\n"
        "# HELP vitals_app_ratio Ratio\n"
        "# TYPE vitals_app_ratio gauge\n"
        "vitals_app_ratio 0.3333333333333333\n"
        "# EOF\n");
    ck_assert_uint_eq(len, strlen(text));
    ck_assert(g_str_has_suffix(text, "\n# EOF\n"));
    g_free(text);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_before_the_first_tick)
{
    size_t len = 0;
    char *text = vitals_prometheus_render(NULL, FALSE, &len);
    ck_assert_str_eq(text, BUILTINS_TEXT);
    ck_assert_uint_eq(len, strlen(text));
    g_free(text);
    text = vitals_prometheus_render(NULL, TRUE, NULL);
    ck_assert_str_eq(text, BUILTINS_OPENMETRICS "# EOF\n");
    g_free(text);
}
END_TEST

START_TEST(test_each_family_once)
{
    /* Every HELP and TYPE line names a different family, across ticks with
     * gaps and with members registered between ticks. */
    vitals_frame *f = sample_frame();
    vitals_frame_unref(f);
    add((vitals_metric_desc){.id = "app.by_name.e.count", .title = "e", .kind = VITALS_COUNTER,
                             .family = "app.by_name.count", .labels = "name=e"});
    f = vitals_registry_snapshot(reg, 2.0);
    for (int om = 0; om < 2; om++) {
        char *text = vitals_prometheus_render(f, om, NULL);
        char **lines = g_strsplit(text, "\n", -1);
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (char **l = lines; *l; l++) {
            if (!g_str_has_prefix(*l, "# HELP ") && !g_str_has_prefix(*l, "# TYPE "))
                continue;
            char **words = g_strsplit(*l, " ", 4);
            char *key = g_strconcat(words[1], " ", words[2], NULL);
            ck_assert_msg(!g_hash_table_contains(seen, key), "twice: %s", *l);
            g_hash_table_add(seen, key);
            g_strfreev(words);
        }
        ck_assert(g_hash_table_contains(seen, om ? "TYPE vitals_app_by_name_count"
                                                 : "TYPE vitals_app_by_name_count_total"));
        g_hash_table_destroy(seen);
        g_strfreev(lines);
        /* The new member has no value yet: no sample. */
        ck_assert_ptr_null(strstr(text, "name=\"e\""));
        g_free(text);
    }
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_host_metrics_prefixed_once)
{
    vitals_metric_set(add((vitals_metric_desc){.id = "vitals.ingest.records", .title = "Records",
                                               .kind = VITALS_COUNTER}),
                      5);
    vitals_metric_set(add((vitals_metric_desc){.id = "vitalsx.y", .title = "Y",
                                               .kind = VITALS_GAUGE}),
                      1);
    vitals_frame *f = vitals_registry_snapshot(reg, 1.0);
    char *text = vitals_prometheus_render(f, FALSE, NULL);
    assert_text(text, BUILTINS_TEXT
                "# HELP vitals_ingest_records_total Records\n"
                "# TYPE vitals_ingest_records_total counter\n"
                "vitals_ingest_records_total 5\n"
                "# HELP vitals_vitalsx_y Y\n"
                "# TYPE vitals_vitalsx_y gauge\n"
                "vitals_vitalsx_y 1\n");
    g_free(text);
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_numbers)
{
    static const struct {
        double value;
        const char *text;
    } cases[] = {{0, "0"},         {-2, "-2"},           {1e21, "1e+21"},
                 {1e-7, "1e-07"},  {123456789012, "123456789012"},
                 {0.1 + 0.2, "0.30000000000000004"}, {-1.5, "-1.5"}};
    vitals_metric *g = add((vitals_metric_desc){.id = "n", .title = "N", .kind = VITALS_GAUGE});
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        vitals_metric_set(g, cases[i].value);
        vitals_frame *f = vitals_registry_snapshot(reg, 1.0 + (double)i);
        char *text = vitals_prometheus_render(f, FALSE, NULL);
        char *line = g_strdup_printf("\nvitals_n %s\n", cases[i].text);
        ck_assert_msg(strstr(text, line), "want %s in\n%s", line, text);
        g_free(line);
        g_free(text);
        vitals_frame_unref(f);
    }
}
END_TEST

START_TEST(test_non_finite_spelling)
{
    /* The registry never stores them; a frame made by hand still prints
     * them as Prometheus spells them. */
    vitals_metric *g = add((vitals_metric_desc){.id = "n", .title = "N", .kind = VITALS_GAUGE});
    vitals_metric_set(g, 1);
    vitals_frame *f = vitals_registry_snapshot(reg, 1.0);
    static const struct {
        double value;
        const char *text;
    } cases[] = {{INFINITY, "vitals_n +Inf\n"}, {-INFINITY, "vitals_n -Inf\n"},
                 {NAN, "vitals_n NaN\n"}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        f->values[0].number = cases[i].value;
        char *text = vitals_prometheus_render(f, FALSE, NULL);
        ck_assert_msg(g_str_has_suffix(text, cases[i].text), "%s", text);
        g_free(text);
    }
    vitals_frame_unref(f);
}
END_TEST

START_TEST(test_accept_header)
{
    ck_assert(!vitals_prometheus_wants_openmetrics(NULL));
    ck_assert(!vitals_prometheus_wants_openmetrics(""));
    ck_assert(!vitals_prometheus_wants_openmetrics("text/plain;version=0.0.4"));
    ck_assert(!vitals_prometheus_wants_openmetrics("*/*"));
    ck_assert(vitals_prometheus_wants_openmetrics("application/openmetrics-text"));
    ck_assert(vitals_prometheus_wants_openmetrics("Application/OpenMetrics-Text; version=1.0.0"));
    /* What Prometheus 2.x sends. */
    ck_assert(vitals_prometheus_wants_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    ck_assert(!vitals_prometheus_wants_openmetrics("text/plain, application/openmetrics-text;q=0"));
    ck_assert(!vitals_prometheus_wants_openmetrics("application/openmetrics-textual"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prometheus");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_text_format_exact);
    tcase_add_test(tc, test_openmetrics_exact);
    tcase_add_test(tc, test_before_the_first_tick);
    tcase_add_test(tc, test_each_family_once);
    tcase_add_test(tc, test_host_metrics_prefixed_once);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_non_finite_spelling);
    tcase_add_test(tc, test_accept_header);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
