/* test_registry.c — registration rules, values per kind, frames and history. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "run_suite.h"

static vitals_metric_desc gauge(const char *id)
{
    return (vitals_metric_desc){.id = id, .title = "A gauge", .unit = "percent", .kind = VITALS_GAUGE};
}

START_TEST(test_register_validates)
{
    vitals_registry *reg = vitals_registry_new(10);
    GError *error = NULL;
    vitals_metric_desc d = gauge("");
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    ck_assert(strstr(error->message, "empty id"));
    g_clear_error(&error);

    d = gauge("Upper.Case");
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    g_clear_error(&error);

    d = gauge("p.ok");
    d.title = NULL;
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    g_clear_error(&error);

    d = gauge("p.ok");
    d.unit = "bad\"unit";
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    ck_assert(strstr(error->message, "unit"));
    g_clear_error(&error);

    d = gauge("p.ok");
    d.kind = (vitals_metric_kind)42;
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    g_clear_error(&error);

    d = gauge("p.ok");
    ck_assert_ptr_nonnull(vitals_registry_add(reg, "p", &d, &error));
    ck_assert_ptr_null(vitals_registry_add(reg, "q", &d, &error));
    ck_assert(strstr(error->message, "duplicate"));
    ck_assert(strstr(error->message, "by p"));
    g_clear_error(&error);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_descriptor_copied_and_generation_bumps)
{
    vitals_registry *reg = vitals_registry_new(10);
    char id[] = "p.copied";
    vitals_metric_desc d = gauge(id);
    d.chart = "p.chart";
    vitals_desc_set *before = vitals_registry_descriptors(reg);
    ck_assert_ptr_nonnull(vitals_registry_add(reg, "p", &d, NULL));
    id[0] = 'x'; /* the plugin's buffer changes; the registry kept its copy */
    vitals_desc_set *after = vitals_registry_descriptors(reg);
    ck_assert_uint_eq(before->count, 0);
    ck_assert_uint_eq(after->count, 1);
    ck_assert_uint_gt(after->generation, before->generation);
    ck_assert_str_eq(after->items[0]->id, "p.copied");
    ck_assert_str_eq(after->items[0]->desc.chart, "p.chart");
    ck_assert_str_eq(after->items[0]->plugin, "p");
    vitals_desc_set_unref(before);
    vitals_desc_set_unref(after);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_values_per_kind)
{
    vitals_registry *reg = vitals_registry_new(10);
    vitals_metric_desc d = gauge("p.gauge");
    vitals_metric *g = vitals_registry_add(reg, "p", &d, NULL);
    d = (vitals_metric_desc){.id = "p.counter", .title = "C", .kind = VITALS_COUNTER};
    vitals_metric *c = vitals_registry_add(reg, "p", &d, NULL);
    d = (vitals_metric_desc){.id = "p.text", .title = "T", .kind = VITALS_TEXT};
    vitals_metric *t = vitals_registry_add(reg, "p", &d, NULL);
    d = (vitals_metric_desc){.id = "p.hist", .title = "H", .kind = VITALS_HISTOGRAM};
    vitals_metric *h = vitals_registry_add(reg, "p", &d, NULL);

    vitals_frame *f = vitals_registry_snapshot(reg, 1.0);
    ck_assert_uint_eq(f->seq, 1);
    ck_assert_int_eq(f->values[0].type, VITALS_VALUE_NONE); /* nothing set yet: a gap */
    ck_assert_int_eq(f->values[3].type, VITALS_VALUE_SUMMARY);
    ck_assert(f->values[3].summary.count == 0);
    vitals_frame_unref(f);

    vitals_metric_set(g, 42.5);
    vitals_metric_add(c, 2);
    vitals_metric_add(c, 3);
    vitals_metric_set_text(t, "checkout");
    for (int i = 1; i <= 100; i++)
        vitals_metric_observe(h, i);
    vitals_metric_set_text(g, "ignored: wrong kind");
    vitals_metric_observe(g, 7);

    f = vitals_registry_snapshot(reg, 2.0);
    ck_assert_uint_eq(f->seq, 2);
    ck_assert(f->values[0].number == 42.5);
    ck_assert(f->values[1].number == 5);
    ck_assert_str_eq(f->values[2].text, "checkout");
    ck_assert(f->values[3].summary.count == 100);
    ck_assert(f->values[3].summary.mean == 50.5);
    ck_assert(f->values[3].summary.p50 == 50);
    ck_assert(f->values[3].summary.p95 == 95);
    ck_assert(f->values[3].summary.p99 == 99);
    vitals_frame_unref(f);

    /* Gauges keep their value until cleared; NaN clears too. */
    f = vitals_registry_snapshot(reg, 3.0);
    ck_assert(f->values[0].number == 42.5);
    vitals_frame_unref(f);
    vitals_metric_clear(g);
    vitals_metric_set(c, NAN);
    vitals_metric_set_text(t, NULL);
    f = vitals_registry_snapshot(reg, 4.0);
    ck_assert_int_eq(f->values[0].type, VITALS_VALUE_NONE);
    ck_assert_int_eq(f->values[1].type, VITALS_VALUE_NONE);
    ck_assert_int_eq(f->values[2].type, VITALS_VALUE_NONE);
    vitals_frame_unref(f);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_text_is_bounded_and_valid_utf8)
{
    vitals_registry *reg = vitals_registry_new(4);
    vitals_metric_desc d = {.id = "p.text", .title = "T", .kind = VITALS_TEXT};
    vitals_metric *t = vitals_registry_add(reg, "p", &d, NULL);
    char big[4000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vitals_metric_set_text(t, big);
    vitals_frame *f = vitals_registry_snapshot(reg, 1.0);
    ck_assert_uint_le(strlen(f->values[0].text), 256);
    vitals_frame_unref(f);
    vitals_metric_set_text(t, "bad \xff byte");
    f = vitals_registry_snapshot(reg, 2.0);
    ck_assert(g_utf8_validate(f->values[0].text, -1, NULL));
    vitals_frame_unref(f);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_history_rolls_and_aligns_late_metrics)
{
    vitals_registry *reg = vitals_registry_new(5);
    vitals_metric_desc d = gauge("p.early");
    vitals_metric *early = vitals_registry_add(reg, "p", &d, NULL);
    for (int i = 1; i <= 7; i++) {
        vitals_metric_set(early, i);
        vitals_frame_unref(vitals_registry_snapshot(reg, 100.0 + i));
    }
    d = gauge("p.late");
    vitals_metric *late = vitals_registry_add(reg, "p", &d, NULL);
    vitals_metric_set(late, 99);
    vitals_frame_unref(vitals_registry_snapshot(reg, 108.0));

    vitals_history *h = vitals_registry_history(reg, -1, 0, 0);
    ck_assert_uint_eq(h->count, 5); /* capacity */
    ck_assert_uint_eq(h->metrics, 2);
    ck_assert_uint_eq(h->first_seq, 4);
    ck_assert(h->ts[0] == 104.0 && h->ts[4] == 108.0);
    ck_assert(h->values[0].number == 4);                       /* early, oldest */
    ck_assert_int_eq(h->values[5 + 0].type, VITALS_VALUE_NONE); /* late: padded gap */
    ck_assert(h->values[5 + 4].number == 99);
    vitals_history_free(h);

    /* One metric, since a time, at most N samples. */
    h = vitals_registry_history(reg, vitals_registry_find(reg, "p.early"), 106.0, 0);
    ck_assert_uint_eq(h->count, 3);
    ck_assert_uint_eq(h->metrics, 1);
    ck_assert(h->values[0].number == 6);
    vitals_history_free(h);
    h = vitals_registry_history(reg, -1, 0, 2);
    ck_assert_uint_eq(h->count, 2);
    ck_assert(h->ts[0] == 107.0);
    vitals_history_free(h);
    ck_assert_int_eq(vitals_registry_find(reg, "p.none"), -1);

    /* By id, in one step (what the history route uses). */
    h = vitals_registry_history_of(reg, "p.late", 0, 0);
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(h->metrics, 1);
    ck_assert(h->values[4].number == 99);
    vitals_history_free(h);
    ck_assert_ptr_null(vitals_registry_history_of(reg, "p.none", 0, 0));
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_latest_frame_outlives_next_snapshot)
{
    vitals_registry *reg = vitals_registry_new(3);
    ck_assert_ptr_null(vitals_registry_latest(reg));
    vitals_frame_unref(vitals_registry_snapshot(reg, 1.0));
    vitals_frame *held = vitals_registry_latest(reg);
    vitals_frame_unref(vitals_registry_snapshot(reg, 2.0));
    ck_assert_uint_eq(held->seq, 1); /* still valid: readers never see a frame change */
    vitals_frame_unref(held);
    vitals_registry_free(reg);
}
END_TEST

static gpointer writer(gpointer data)
{
    vitals_metric *m = data;
    for (int i = 0; i < 20000; i++)
        vitals_metric_add(m, 1);
    return NULL;
}

START_TEST(test_concurrent_writers_lose_nothing)
{
    vitals_registry *reg = vitals_registry_new(3);
    vitals_metric_desc d = {.id = "p.count", .title = "C", .kind = VITALS_COUNTER};
    vitals_metric *c = vitals_registry_add(reg, "p", &d, NULL);
    GThread *a = g_thread_new("a", writer, c), *b = g_thread_new("b", writer, c);
    for (int i = 0; i < 50; i++)
        vitals_frame_unref(vitals_registry_snapshot(reg, i));
    g_thread_join(a);
    g_thread_join(b);
    vitals_frame *f = vitals_registry_snapshot(reg, 99);
    ck_assert(f->values[0].number == 40000);
    vitals_frame_unref(f);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_retire_removes_a_plugins_metrics_safely)
{
    vitals_registry *reg = vitals_registry_new(4);
    vitals_metric_desc d = gauge("a.one");
    vitals_metric *a1 = vitals_registry_add(reg, "a", &d, NULL);
    d = gauge("b.one");
    vitals_metric *b1 = vitals_registry_add(reg, "b", &d, NULL);
    d = gauge("a.two");
    vitals_registry_add(reg, "a", &d, NULL);
    vitals_metric_set(a1, 1);
    vitals_metric_set(b1, 2);
    vitals_frame *old = vitals_registry_snapshot(reg, 1.0); /* a reader's frame */
    guint before = old->descs->generation;

    ck_assert_uint_eq(vitals_registry_retire(reg, "a"), 2);
    ck_assert_uint_eq(vitals_registry_retire(reg, "nobody"), 0);
    /* The old frame still reads its own descriptors (use after free would show under ASan). */
    ck_assert_str_eq(old->descs->items[0]->id, "a.one");
    ck_assert_str_eq(old->descs->items[2]->id, "a.two");
    vitals_frame_unref(old);

    vitals_frame *f = vitals_registry_snapshot(reg, 2.0);
    ck_assert_uint_eq(f->descs->count, 1);
    ck_assert_str_eq(f->descs->items[0]->id, "b.one");
    ck_assert_uint_gt(f->descs->generation, before);
    ck_assert(f->values[0].number == 2);
    vitals_frame_unref(f);
    ck_assert_int_eq(vitals_registry_find(reg, "a.one"), -1);
    ck_assert_int_eq(vitals_registry_find(reg, "b.one"), 0);
    vitals_history *h = vitals_registry_history(reg, 0, 0, 0);
    ck_assert_uint_eq(h->count, 2);
    ck_assert(h->values[0].number == 2); /* b's own column, still aligned */
    vitals_history_free(h);

    /* The same ids may come back (the plugin file dropped in again). */
    d = gauge("a.one");
    ck_assert_ptr_nonnull(vitals_registry_add(reg, "a", &d, NULL));
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_family_and_labels)
{
    vitals_registry *reg = vitals_registry_new(4);
    GError *error = NULL;
    vitals_metric_desc d = gauge("p.by_name.x");
    d.family = "p.by_name";
    d.labels = "name=x y,zone=eu-1";
    ck_assert_ptr_nonnull(vitals_registry_add(reg, "p", &d, &error));
    const char *bad[] = {"", "=v", "Name=x", "name", "name=a,b", "name=\"q\"", "1a=b", "a=b,", NULL};
    for (const char **l = bad; *l; l++) {
        d = gauge("p.bad");
        d.labels = *l;
        ck_assert_msg(!vitals_registry_add(reg, "p", &d, &error), "labels '%s' accepted", *l);
        g_clear_error(&error);
    }
    vitals_desc_set *set = vitals_registry_descriptors(reg);
    ck_assert_str_eq(set->items[0]->desc.labels, "name=x y,zone=eu-1");
    ck_assert_str_eq(set->items[0]->desc.family, "p.by_name");
    vitals_desc_set_unref(set);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_stream_every_is_checked)
{
    vitals_registry *reg = vitals_registry_new(4);
    GError *error = NULL;
    const int bad[] = {-1, 61, 1000};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        vitals_metric_desc d = gauge("p.slow");
        d.stream_every = bad[i];
        ck_assert_msg(!vitals_registry_add(reg, "p", &d, &error), "stream_every %d accepted", bad[i]);
        ck_assert_str_eq(error->message, "invalid metric 'p.slow': stream_every must be 0..60 (0 or 1: "
                                         "in every sample)");
        g_clear_error(&error);
    }
    /* a counter's chart is a difference of consecutive totals: never thinned */
    vitals_metric_desc d = {.id = "p.total", .title = "T", .kind = VITALS_COUNTER, .stream_every = 2};
    ck_assert_ptr_null(vitals_registry_add(reg, "p", &d, &error));
    ck_assert(strstr(error->message, "stream_every must be 0 or 1 for a counter"));
    g_clear_error(&error);
    d.stream_every = 1;
    ck_assert_ptr_nonnull(vitals_registry_add(reg, "p", &d, &error));

    /* 0 (the zeroed default) and 1 both mean every sample; 60 is the most */
    const int good[] = {0, 1, 60};
    const char *ids[] = {"p.zero", "p.one", "p.sixty"};
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        vitals_metric_desc g = gauge(ids[i]);
        g.stream_every = good[i];
        vitals_metric *m = vitals_registry_add(reg, "p", &g, &error);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(vitals_metric_get_info(m)->desc.stream_every, good[i] ? good[i] : 1);
    }
    vitals_registry_free(reg);
}
END_TEST

/* The ids of the current set, comma-separated (freed by the caller). */
static char *order_of(vitals_registry *reg)
{
    vitals_desc_set *set = vitals_registry_descriptors(reg);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < set->count; i++) {
        g_string_append_printf(s, "%s%s", i ? "," : "", set->items[i]->id);
        ck_assert_int_eq(vitals_registry_find(reg, set->items[i]->id), (int)i);
    }
    vitals_desc_set_unref(set);
    return g_string_free(s, FALSE);
}

START_TEST(test_slow_metrics_come_after_the_others)
{
    vitals_registry *reg = vitals_registry_new(4);
    const char *regs[][2] = {{"a", "a.fast1"}, {"a", "a.slow1"}, {"b", "b.fast"},
                             {"b", "b.slow"}, {"a", "a.fast2"}};
    vitals_metric *m[5];
    for (int i = 0; i < 5; i++) {
        vitals_metric_desc d = gauge(regs[i][1]);
        d.stream_every = strstr(regs[i][1], "slow") ? 5 : 0;
        m[i] = vitals_registry_add(reg, regs[i][0], &d, NULL);
        vitals_metric_set(m[i], i);
        vitals_frame_unref(vitals_registry_snapshot(reg, i + 1.0));
    }
    char *order = order_of(reg);
    ck_assert_str_eq(order, "a.fast1,b.fast,a.fast2,a.slow1,b.slow");
    g_free(order);

    /* frames and history follow the set's order, every column its own metric */
    vitals_frame *f = vitals_registry_latest(reg);
    const double want[] = {0, 2, 4, 1, 3};
    for (int i = 0; i < 5; i++)
        ck_assert(f->values[i].number == want[i]);
    vitals_frame_unref(f);
    vitals_history *h = vitals_registry_history(reg, -1, 0, 0);
    ck_assert_uint_eq(h->count, 4); /* the ring keeps 4 */
    ck_assert_int_eq(h->values[2 * h->count + 3].type, VITALS_VALUE_NUMBER); /* a.fast2, newest */
    ck_assert_int_eq(h->values[2 * h->count + 2].type, VITALS_VALUE_NONE);   /* before it existed */
    ck_assert(h->values[3 * h->count + 0].number == 1);                      /* a.slow1 */
    vitals_history_free(h);

    ck_assert_uint_eq(vitals_registry_retire(reg, "a"), 3);
    order = order_of(reg);
    ck_assert_str_eq(order, "b.fast,b.slow");
    g_free(order);
    vitals_metric_desc d = gauge("c.fast");
    vitals_registry_add(reg, "c", &d, NULL);
    order = order_of(reg);
    ck_assert_str_eq(order, "b.fast,c.fast,b.slow");
    g_free(order);
    vitals_registry_free(reg);
}
END_TEST

START_TEST(test_desc_size_per_abi_minor)
{
    /* a 1.0/1.1 plugin's struct ends before family, a 1.2 one's before stream_every */
    ck_assert_uint_eq(vitals_metric_desc_size(0), offsetof(vitals_metric_desc, family));
    ck_assert_uint_eq(vitals_metric_desc_size(1), offsetof(vitals_metric_desc, family));
    ck_assert_uint_eq(vitals_metric_desc_size(2), offsetof(vitals_metric_desc, stream_every));
    ck_assert_uint_eq(vitals_metric_desc_size(3), sizeof(vitals_metric_desc));
    ck_assert_uint_eq(vitals_metric_desc_size(VITALS_PLUGIN_ABI_MINOR), sizeof(vitals_metric_desc));
}
END_TEST

START_TEST(test_histogram_totals_are_cumulative)
{
    vitals_registry *reg = vitals_registry_new(4);
    vitals_metric_desc d = {.id = "p.h", .title = "H", .kind = VITALS_HISTOGRAM};
    vitals_metric *h = vitals_registry_add(reg, "p", &d, NULL);
    vitals_metric_observe(h, 1);
    vitals_metric_observe(h, 2);
    vitals_frame_unref(vitals_registry_snapshot(reg, 1.0));
    vitals_metric_observe(h, 3);
    vitals_frame *f = vitals_registry_snapshot(reg, 2.0);
    ck_assert(f->values[0].summary.total_count == 3);
    ck_assert(f->values[0].summary.total_sum == 6);
    vitals_frame_unref(f);
    vitals_registry_free(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, test_register_validates);
    tcase_add_test(tc, test_descriptor_copied_and_generation_bumps);
    tcase_add_test(tc, test_values_per_kind);
    tcase_add_test(tc, test_text_is_bounded_and_valid_utf8);
    tcase_add_test(tc, test_history_rolls_and_aligns_late_metrics);
    tcase_add_test(tc, test_latest_frame_outlives_next_snapshot);
    tcase_add_test(tc, test_concurrent_writers_lose_nothing);
    tcase_add_test(tc, test_retire_removes_a_plugins_metrics_safely);
    tcase_add_test(tc, test_family_and_labels);
    tcase_add_test(tc, test_histogram_totals_are_cumulative);
    tcase_add_test(tc, test_stream_every_is_checked);
    tcase_add_test(tc, test_slow_metrics_come_after_the_others);
    tcase_add_test(tc, test_desc_size_per_abi_minor);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
