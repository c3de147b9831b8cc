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
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "plugin_host.h"
#include "run_suite.h"

static char *plugin_dir, *plugin_copy;

/* Copies event.so from the build tree into a directory of its own. */
static void setup(void)
{
    plugin_host_make_dir("event");
    plugin_dir = g_build_filename(g_get_tmp_dir(), "vitals-test-event-so-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(plugin_dir));
    char *built = g_build_filename(VITALS_BUILD_PLUGINS_DIR, "event.so", NULL);
    char *bytes = NULL;
    gsize len = 0;
    ck_assert_msg(g_file_get_contents(built, &bytes, &len, NULL), "no %s", built);
    plugin_copy = g_build_filename(plugin_dir, "event.so", NULL);
    ck_assert(g_file_set_contents(plugin_copy, bytes, (gssize)len, NULL));
    g_free(bytes);
    g_free(built);
}

static void teardown(void)
{
    g_remove(plugin_copy);
    g_rmdir(plugin_dir);
    g_free(plugin_copy);
    g_free(plugin_dir);
    plugin_host_remove_dir();
}

/* Loads the event plugin with `ini_text` as vitals.ini (NULL: defaults)
 * and asserts that it runs. */
static void load_event(plugin_host *h, const char *ini_text)
{
    plugin_host_load(h, plugin_dir, ini_text);
    const vitals_loaded_plugin *lp = vitals_plugins_find(h->plugins, "event");
    ck_assert_msg(lp != NULL, "no event.so in %s", plugin_dir);
    ck_assert_msg(lp->status == VITALS_PLUGIN_RUNNING, "event: %s", lp->error);
}

static bool is_gap(const plugin_host *h, const char *id)
{
    return plugin_host_value(h, id)->type == VITALS_VALUE_NONE;
}

/* The window summary of a histogram in the latest frame. */
static vitals_hist_summary summary(const plugin_host *h, const char *id)
{
    const vitals_value *v = plugin_host_value(h, id);
    ck_assert_msg(v->type == VITALS_VALUE_SUMMARY, "%s has no summary", id);
    return v->summary;
}

/* The descriptor of metric `id`, which lives as long as h->reg. */
static const vitals_metric_desc *desc_of(const plugin_host *h, const char *id)
{
    int index = vitals_registry_find(h->reg, id);
    ck_assert_msg(index >= 0, "metric %s is not registered", id);
    vitals_desc_set *set = vitals_registry_descriptors(h->reg);
    const vitals_metric_desc *desc = &set->items[index]->desc;
    vitals_desc_set_unref(set);
    return desc;
}

/* Sends `lines` and asserts that the parser delivered `records` records. */
static void send_lines(plugin_host *h, const char *lines, size_t records)
{
    ck_assert_uint_eq(plugin_host_send(h, lines), records);
}

/* Waits, if need be, until the first half of a second of CLOCK_MONOTONIC
 * (the plugin's clock), so that what a test sends and the tick after it
 * fall in the same whole second, even with a 1-second window. */
static void wait_for_start_of_second(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_nsec > 500000000L)
        g_usleep((gulong)((1000000000L - now.tv_nsec) / 1000 + 1000));
}

START_TEST(test_descriptors)
{
    plugin_host h;
    load_event(&h, NULL);
    const vitals_metric_desc *d = desc_of(&h, "event.queue");
    ck_assert(d->kind == VITALS_GAUGE && d->card && d->style == VITALS_BAR && d->priority == 44);
    ck_assert_str_eq(d->chart, "queues");
    ck_assert_str_eq(d->title, "Event queue");
    d = desc_of(&h, "event.failed");
    ck_assert(d->kind == VITALS_COUNTER && d->style == VITALS_AREA);
    ck_assert_str_eq(d->chart, "errors");
    d = desc_of(&h, "event.per_minute");
    ck_assert(d->kind == VITALS_GAUGE && d->axis == VITALS_AXIS_LEFT);
    ck_assert_str_eq(d->chart, "event.time");
    ck_assert_str_eq(d->unit, "per_minute");
    d = desc_of(&h, "event.duration");
    ck_assert(d->kind == VITALS_HISTOGRAM && d->axis == VITALS_AXIS_RIGHT);
    ck_assert_str_eq(d->chart, "event.time");
    ck_assert_str_eq(d->chart_title, "Event processing");
    ck_assert_str_eq(d->unit, "seconds");
    ck_assert(desc_of(&h, "event.queued")->kind == VITALS_COUNTER);
    ck_assert(desc_of(&h, "event.processed")->kind == VITALS_COUNTER);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_counts_and_rates)
{
    plugin_host h;
    load_event(&h, NULL);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 0);
    ck_assert(is_gap(&h, "event.queue"));
    ck_assert_double_eq(summary(&h, "event.duration").count, 0);

    send_lines(&h, "event.queued:5|c\nevent.queued:3|c|@0.5\n", 2); /* 5 + 6 */
    for (int i = 0; i < 10; i++)
        send_lines(&h, i < 3 ? "event:200|ms|#ok:false" : "event:200|ms|#ok:true", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 11);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 10);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 10);
    vitals_hist_summary d = summary(&h, "event.duration");
    ck_assert_double_eq(d.count, 10);
    ck_assert_double_eq(d.p50, 0.2);
    ck_assert_double_eq(d.p99, 0.2);
    ck_assert_double_eq_tol(d.mean, 0.2, 1e-12);

    /* a sampled line stands for 1 / rate events; no ok tag: it succeeded */
    send_lines(&h, "event:100|ms|@0.25|#ok:false\nevent:100|ms|@0.5\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 16);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 7);
    ck_assert_double_eq(plugin_host_number(&h, "event.per_minute"), 16);
    ck_assert_double_eq(summary(&h, "event.duration").count, 12); /* one per line */
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_window_expires)
{
    plugin_host h;
    load_event(&h, "[plugin:event]\nwindow = 1\n");
    wait_for_start_of_second();
    send_lines(&h, "event:1|ms\nevent:1|ms\nevent:1|ms|#ok:false\n", 3);
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
    load_event(&h, NULL);
    send_lines(&h, "event.queue:12|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 12);
    send_lines(&h, "event.queue:-4|g\nevent.queue:+1|g\nevent.queue:-2|g\n", 3);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 7);
    send_lines(&h, "event.queue:3|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.queue"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 0);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_outcomes_and_unread_records)
{
    plugin_host h;
    load_event(&h, NULL);
    send_lines(&h, "event:5|ms|#ok:maybe\nevent:5|ms|#ok:yes\nevent:5|ms|#ok:No\n", 3);
    /* not read: a negative count, wrong types, names of no meaning */
    send_lines(&h, "event.queued:-3|c\nevent.queued:3|g\nevent.queue:3|c\nevent:5|c\n"
                   "event.other:1|ms\n", 5);
    send_lines(&h, "event.queued:2|c\nevent.queued:x|c\nevent.queued:2|c\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "event.processed"), 3);
    ck_assert_double_eq(plugin_host_number(&h, "event.failed"), 2);
    ck_assert_double_eq(plugin_host_number(&h, "event.queued"), 4);
    ck_assert(is_gap(&h, "event.queue"));
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_invalid_config_fails_init)
{
    static const char *const cases[] = {"[plugin:event]\nwindow = 0\n",
                                        "[plugin:event]\nwindow = 4000\n"};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        plugin_host h;
        plugin_host_load(&h, plugin_dir, cases[i]);
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
        const vitals_metric_desc *d = desc_of(&h, shared[i].id);
        ck_assert_str_eq(d->chart, shared[i].chart);
        ck_assert_str_eq(d->chart_title, shared[i].chart_title);
    }
    ck_assert_str_eq(desc_of(&h, "system.memory_used")->chart, "system.memory");

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
    send_lines(&h, "action:10|ms|#name:a\nevent:10|ms\nevent.queued:1|c\n", 3);
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
    tcase_add_unchecked_fixture(tc, setup, teardown);
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
