/*
 * test_event_plugin.c — the bundled event plugin (plugins/event), loaded by
 * the real loader and fed StatsD lines through the host's parser and router
 * (plugin_host_send): exact counts and rates, sampled lines, the window's
 * expiry, queue gauges and their deltas, outcomes that are neither true nor
 * false, records it does not read and a bad config.  Last, all bundled
 * plugins together from the build tree: the charts they share and the order
 * of the headline cards.
 *
 * The event plugin is copied alone into a temporary directory (the loader
 * takes regular files only); an unchecked fixture makes and removes that
 * directory and plugin_host's.
 */
#include <check.h>
#include <glib.h>
#include <string.h>

#include "plugin_host.h"
#include "run_suite.h"

/* Copies event.so from the build tree into a directory of its own. */
static void setup(void)
{
    plugin_host_make_plugin_dir("event");
}

START_TEST(test_descriptors)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    const vitals_metric_desc *d = plugin_host_desc(&h, "event.queue");
    ck_assert(d->kind == VITALS_GAUGE && d->card && d->style == VITALS_BAR && d->priority == 44);
    ck_assert_str_eq(d->chart, "queues");
    ck_assert_str_eq(d->title, "Event queue");
    d = plugin_host_desc(&h, "event.failed");
    ck_assert(d->kind == VITALS_COUNTER && d->style == VITALS_AREA);
    ck_assert_str_eq(d->chart, "errors");
    d = plugin_host_desc(&h, "event.per_minute");
    ck_assert(d->kind == VITALS_GAUGE && d->axis == VITALS_AXIS_LEFT);
    ck_assert_str_eq(d->chart, "event.time");
    ck_assert_str_eq(d->unit, "per_minute");
    d = plugin_host_desc(&h, "event.duration");
    ck_assert(d->kind == VITALS_HISTOGRAM && d->axis == VITALS_AXIS_RIGHT);
    ck_assert_str_eq(d->chart, "event.time");
    ck_assert_str_eq(d->chart_title, "Event processing");
    ck_assert_str_eq(d->unit, "seconds");
    ck_assert(plugin_host_desc(&h, "event.queued")->kind == VITALS_COUNTER);
    ck_assert(plugin_host_desc(&h, "event.processed")->kind == VITALS_COUNTER);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_counts_and_rates)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 0);
    ck_assert(plugin_host_is_gap(&h, "event.queue"));
    ck_assert_double_eq(plugin_host_summary(&h, "event.duration").count, 0);

    plugin_host_send_lines(&h, "event.queued:5|c\nevent.queued:3|c|@0.5\n", 2); /* 5 + 6 */
    for (int i = 0; i < 10; i++)
        plugin_host_send_lines(&h, i < 3 ? "event:200|ms|#ok:false" : "event:200|ms|#ok:true", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 11);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 10);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 10);
    vitals_hist_summary d = plugin_host_summary(&h, "event.duration");
    ck_assert_double_eq(d.count, 10);
    ck_assert_double_eq(d.p50, 0.2);
    ck_assert_double_eq(d.p99, 0.2);
    ck_assert_double_eq_tol(d.mean, 0.2, 1e-12);

    /* a sampled line stands for 1 / rate events; no ok tag: it succeeded */
    plugin_host_send_lines(&h, "event:100|ms|@0.25|#ok:false\nevent:100|ms|@0.5\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 16);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 7);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 16);
    ck_assert_double_eq(plugin_host_summary(&h, "event.duration").count, 12); /* one per line */
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_window_expires)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:event]\nwindow = 1\n");
    plugin_host_wait_for_start_of_second();
    plugin_host_send_lines(&h, "event:1|ms\nevent:1|ms\nevent:1|ms|#ok:false\n", 3);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 180);
    g_usleep(1100 * 1000);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 3);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_queue_gauge_and_deltas)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_send_lines(&h, "event.queue:12|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 12);
    plugin_host_send_lines(&h, "event.queue:-4|g\nevent.queue:+1|g\nevent.queue:-2|g\n", 3);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 7);
    plugin_host_send_lines(&h, "event.queue:3|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 0);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_outcomes_and_unread_records)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_send_lines(&h, "event:5|ms|#ok:maybe\nevent:5|ms|#ok:yes\nevent:5|ms|#ok:No\n", 3);
    /* not read: a negative count, wrong types, names of no meaning */
    plugin_host_send_lines(&h, "event.queued:-3|c\nevent.queued:3|g\nevent.queue:3|c\nevent:5|c\n"
                   "event.other:1|ms\n", 5);
    plugin_host_send_lines(&h, "event.queued:2|c\nevent.queued:x|c\nevent.queued:2|c\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 2);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 4);
    ck_assert(plugin_host_is_gap(&h, "event.queue"));
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_invalid_config_fails_init)
{
    static const char *const cases[] = {"[plugin:event]\nwindow = 0\n",
                                        "[plugin:event]\nwindow = 4000\n"};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        plugin_host h;
        plugin_host_load(&h, plugin_host_plugin_dir(), cases[i]);
        const vitals_loaded_plugin *lp = vitals_plugins_find(h.plugins, "event");
        ck_assert_ptr_nonnull(lp);
        ck_assert(lp->status == VITALS_PLUGIN_FAILED);
        ck_assert_msg(lp->error && strstr(lp->error, "window"), "error: %s", lp->error);
        ck_assert_uint_eq(vitals_router_count(h.router), 0);
        plugin_host_free(&h);
    }
}
END_TEST

/* Orders descriptors by priority, then id. */
static gint by_priority(gconstpointer a, gconstpointer b)
{
    const vitals_metric_info *x = *(vitals_metric_info *const *)a;
    const vitals_metric_info *y = *(vitals_metric_info *const *)b;
    if (x->desc.priority != y->desc.priority)
        return x->desc.priority < y->desc.priority ? -1 : 1;
    return strcmp(x->id, y->id);
}

START_TEST(test_bundled_plugins_share_charts)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_BUILD_PLUGINS_DIR, NULL);
    static const char *const names[] = {"system", "action", "event"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        const vitals_loaded_plugin *lp = vitals_plugins_find(h.plugins, names[i]);
        ck_assert_msg(lp && lp->status == VITALS_PLUGIN_RUNNING, "%s does not run", names[i]);
    }
    static const struct {
        const char *id, *chart, *chart_title;
    } shared[] = {
        {"system.cpu_percent", "system.cpu_memory", "CPU & memory"},
        {"system.memory_percent", "system.cpu_memory", "CPU & memory"},
        {"action.queue", "queues", "Queue depths"},
        {"event.queue", "queues", "Queue depths"},
        {"action.errors", "errors", "Errors"},
        {"event.failed", "errors", "Errors"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(shared); i++) {
        const vitals_metric_desc *d = plugin_host_desc(&h, shared[i].id);
        ck_assert_str_eq(d->chart, shared[i].chart);
        ck_assert_str_eq(d->chart_title, shared[i].chart_title);
    }
    ck_assert_str_eq(plugin_host_desc(&h, "system.memory_used")->chart, "system.memory");

    /* the headline cards read CPU, memory, …, actions/min, success rate,
     * errors, the two queues and the current action */
    static const char *const cards[] = {
        "system.cpu_percent", "system.memory_percent", "system.process", "system.process_count",
        "action.per_minute", "action.success_rate", "action.errors", "action.queue",
        "event.queue", "action.current"};
    vitals_desc_set *set = vitals_registry_descriptors(h.reg);
    GPtrArray *sorted = g_ptr_array_new();
    for (guint i = 0; i < set->count; i++)
        if (set->items[i]->desc.card)
            g_ptr_array_add(sorted, set->items[i]);
    g_ptr_array_sort(sorted, by_priority);
    ck_assert_uint_eq(sorted->len, G_N_ELEMENTS(cards));
    for (guint i = 0; i < sorted->len; i++)
        ck_assert_str_eq(((vitals_metric_info *)sorted->pdata[i])->id, cards[i]);
    g_ptr_array_free(sorted, TRUE);
    vitals_desc_set_unref(set);

    /* each plugin gets its own records */
    plugin_host_send_lines(&h, "action:10|ms|#name:a\nevent:10|ms\nevent.queued:1|c\n", 3);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 1);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 1);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 1);
    plugin_host_free(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("event_plugin");
    TCase *tc = tcase_create("event_plugin");
    tcase_add_unchecked_fixture(tc, setup, plugin_host_remove_plugin_dir);
    tcase_add_test(tc, test_descriptors);
    tcase_add_test(tc, test_counts_and_rates);
    tcase_add_test(tc, test_window_expires);
    tcase_add_test(tc, test_queue_gauge_and_deltas);
    tcase_add_test(tc, test_outcomes_and_unread_records);
    tcase_add_test(tc, test_invalid_config_fails_init);
    tcase_add_test(tc, test_bundled_plugins_share_charts);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
