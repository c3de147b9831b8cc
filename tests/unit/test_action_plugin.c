/*
 * test_action_plugin.c — the bundled action plugin (plugins/action), loaded
 * by the real loader and fed StatsD lines through the host's parser and
 * router (plugin_host_send): exact counts, rates and success rates, sampled
 * lines, no actions, the window's expiry, queue gauges and their deltas,
 * the current action, per-name metrics capped at top_names, outcomes that
 * are neither true nor false, records it does not read, and bad configs.
 *
 * The plugin is copied alone into a temporary directory (the loader takes
 * regular files only), so other plugins neither slow nor disturb it; an
 * unchecked fixture makes and removes that directory and plugin_host's.
 */
#include <check.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "plugin_host.h"
#include "run_suite.h"

/* Copies action.so from the build tree into a directory of its own. */
static void setup(void)
{
    plugin_host_make_plugin_dir("action");
}

static bool is_registered(const plugin_host *h, const char *id)
{
    return vitals_registry_find(h->reg, id) >= 0;
}

/* Sends the same line n times. */
static void send_n(plugin_host *h, const char *line, int n)
{
    for (int i = 0; i < n; i++)
        plugin_host_send_lines(h, line, 1);
}

START_TEST(test_descriptors)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    const vitals_metric_desc *d = plugin_host_desc(&h, "action.per_minute");
    ck_assert_str_eq(d->unit, "per_minute");
    ck_assert_str_eq(d->chart, "action.rate");
    ck_assert(d->card && d->axis == VITALS_AXIS_LEFT && d->priority == 40);
    d = plugin_host_desc(&h, "action.duration");
    ck_assert(d->kind == VITALS_HISTOGRAM && d->axis == VITALS_AXIS_RIGHT);
    ck_assert_str_eq(d->chart, "action.rate");
    ck_assert_str_eq(d->unit, "seconds");
    d = plugin_host_desc(&h, "action.success_rate");
    ck_assert(d->card && d->lower_is_worse && d->warn == 95 && d->crit == 80);
    ck_assert(d->has_warn && d->has_crit && d->priority == 41);
    d = plugin_host_desc(&h, "action.errors");
    ck_assert(d->kind == VITALS_COUNTER && d->card && d->style == VITALS_AREA);
    ck_assert_str_eq(d->chart, "errors");
    d = plugin_host_desc(&h, "action.queue");
    ck_assert(d->kind == VITALS_GAUGE && d->card && d->style == VITALS_BAR && d->priority == 43);
    ck_assert_str_eq(d->chart, "queues");
    d = plugin_host_desc(&h, "action.current");
    ck_assert(d->kind == VITALS_TEXT && d->card && d->priority == 45);
    ck_assert(plugin_host_desc(&h, "action.total")->kind == VITALS_COUNTER);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_counts_rates_and_success)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_tick(&h);
    /* nothing yet: zero counts, no success rate, no queue, no action */
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "action.per_minute"), 0);
    ck_assert(plugin_host_is_gap(&h, "action.success_rate"));
    ck_assert(plugin_host_is_gap(&h, "action.queue"));
    ck_assert(plugin_host_is_gap(&h, "action.current"));
    ck_assert_double_eq(plugin_host_summary(&h, "action.duration").count, 0);

    send_n(&h, "action:100|ms|#name:checkout,ok:true", 8);
    plugin_host_send_lines(&h, "action:100|ms|#name:checkout,ok:false\naction:100|ms|#ok:false,name:checkout\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 10);
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 2);
    ck_assert_double_eq(plugin_host_number(&h, "action.success_rate"), 80);
    ck_assert_double_eq(plugin_host_number(&h, "action.per_minute"), 10);
    vitals_hist_summary d = plugin_host_summary(&h, "action.duration");
    ck_assert_double_eq(d.count, 10);
    ck_assert_double_eq_tol(d.mean, 0.1, 1e-12);
    ck_assert_double_eq(d.p50, 0.1);
    ck_assert_double_eq(d.p95, 0.1);
    ck_assert_double_eq(d.p99, 0.1);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.checkout.count"), 10);
    ck_assert_double_eq(plugin_host_summary(&h, "action.by_name.checkout.duration").p50, 0.1);

    /* an action without the ok tag succeeded */
    plugin_host_send_lines(&h, "action:300|ms|#name:checkout", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 11);
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 2);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.success_rate"), 900.0 / 11, 1e-9);
    ck_assert_double_eq(plugin_host_summary(&h, "action.duration").p99, 0.3);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_sample_rates)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_send_lines(&h, "action:50|ms|@0.1|#name:poll,ok:true", 1);   /* stands for 10 */
    plugin_host_send_lines(&h, "action:150|ms|@0.5|#name:poll,ok:false", 1); /* stands for 2  */
    plugin_host_tick(&h);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.total"), 12, 1e-9);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.errors"), 2, 1e-9);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.per_minute"), 12, 1e-9);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.success_rate"), 1000.0 / 12, 1e-9);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.by_name.poll.count"), 12, 1e-9);
    /* two lines, two observations of the durations themselves */
    vitals_hist_summary d = plugin_host_summary(&h, "action.duration");
    ck_assert_double_eq(d.count, 2);
    ck_assert_double_eq_tol(d.mean, 0.1, 1e-12);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_window_expires)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:action]\nwindow = 1\n");
    plugin_host_wait_for_start_of_second();
    plugin_host_send_lines(&h, "action:10|ms|#ok:true\naction:10|ms|#ok:true\naction:10|ms|#ok:true\n"
             "action:10|ms|#ok:false\n", 4);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.success_rate"), 75);
    ck_assert_double_eq(plugin_host_number(&h, "action.per_minute"), 240); /* 4 in 1 s */

    g_usleep(1100 * 1000); /* the next whole second: the window is empty */
    plugin_host_tick(&h);
    ck_assert(plugin_host_is_gap(&h, "action.success_rate"));
    ck_assert_double_eq(plugin_host_number(&h, "action.per_minute"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 4); /* totals stay */
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 1);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_fractional_window_rounds_up)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:action]\nwindow = 2.5\n"); /* 3 whole seconds */
    send_n(&h, "action:1|ms", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.per_minute"), 40); /* 2 * 60 / 3 */
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_queue_gauge_and_deltas)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_send_lines(&h, "action.queue:+2|g", 1); /* a change before any depth: from 0 */
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 2);
    plugin_host_send_lines(&h, "action.queue:5|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 5);
    plugin_host_send_lines(&h, "action.queue:+3|g\naction.queue:-1|g\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 7);
    plugin_host_send_lines(&h, "action.queue:0|g", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 0);
    plugin_host_tick(&h); /* a depth stays until the next report */
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 0);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 0); /* not actions */
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_current_action)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    plugin_host_send_lines(&h, "action.current:sync_inbox|s", 1);
    plugin_host_tick(&h);
    ck_assert_str_eq(plugin_host_text(&h, "action.current"), "sync_inbox");
    plugin_host_tick(&h); /* it stays */
    ck_assert_str_eq(plugin_host_text(&h, "action.current"), "sync_inbox");
    plugin_host_send_lines(&h, "action.current:-|s", 1);
    plugin_host_tick(&h);
    ck_assert(plugin_host_is_gap(&h, "action.current"));
    plugin_host_send_lines(&h, "action.current:Checkout 2|s", 1);
    plugin_host_tick(&h);
    ck_assert_str_eq(plugin_host_text(&h, "action.current"), "Checkout 2");
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_names_capped_at_top_names)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:action]\ntop_names = 2\n");
    ck_assert(!is_registered(&h, "action.by_name.other.count"));
    send_n(&h, "action:20|ms|#name:Check-Out", 3);
    ck_assert(is_registered(&h, "action.by_name.check_out.count")); /* at once */
    ck_assert(is_registered(&h, "action.by_name.check_out.duration"));
    ck_assert_str_eq(plugin_host_desc(&h, "action.by_name.check_out.count")->title, "Check-Out");
    ck_assert_str_eq(plugin_host_desc(&h, "action.by_name.check_out.count")->chart, "action.by_name");
    plugin_host_send_lines(&h, "action:40|ms|#name:login", 1);
    ck_assert(!is_registered(&h, "action.by_name.other.count"));
    send_n(&h, "action:60|ms|#name:search", 2);
    plugin_host_send_lines(&h, "action:60|ms|@0.5|#name:upload", 1);
    plugin_host_send_lines(&h, "action:60|ms|#name:login", 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.check_out.count"), 3);
    ck_assert_double_eq(plugin_host_summary(&h, "action.by_name.check_out.duration").count, 3);
    ck_assert_double_eq(plugin_host_summary(&h, "action.by_name.check_out.duration").p50, 0.02);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.login.count"), 2);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.other.count"), 4);
    ck_assert(!is_registered(&h, "action.by_name.search.count"));
    ck_assert(!is_registered(&h, "action.by_name.upload.count"));
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 9);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_name_ids_are_sanitised_and_unique)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:action]\ntop_names = 5\n");
    plugin_host_send_lines(&h, "action:1|ms|#name:a-b\naction:1|ms|#name:a_b\naction:1|ms|#name:Other\n"
             "action:1|ms\naction:1|ms|#name:--\naction:1|ms|#name:sixth\n", 6);
    plugin_host_tick(&h);
    static const char *const ids[] = {
        "action.by_name.a_b.count", "action.by_name.a_b_2.count", "action.by_name.other_2.count",
        "action.by_name.unnamed.count", "action.by_name.unnamed_2.count",
        "action.by_name.other.count"};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
        ck_assert_double_eq(plugin_host_number(&h, ids[i]), 1);
    ck_assert_str_eq(plugin_host_desc(&h, "action.by_name.a_b_2.count")->title, "a_b");
    ck_assert_str_eq(plugin_host_desc(&h, "action.by_name.other_2.count")->title, "Other");
    ck_assert_str_eq(plugin_host_desc(&h, "action.by_name.unnamed_2.count")->title, "--");
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_outcomes_and_unread_records)
{
    plugin_host h;
    plugin_host_load_plugin(&h, NULL);
    /* ok:maybe and a bare "ok" are neither true nor false: failures */
    plugin_host_send_lines(&h, "action:5|ms|#ok:maybe\naction:5|ms|#ok\n", 2);
    plugin_host_send_lines(&h, "action:5|ms|#ok:YES\naction:5|ms|#ok:1\naction:5|ms|#ok:True\n", 3);
    plugin_host_send_lines(&h, "action:5|ms|#ok:No\naction:5|ms|#ok:0\naction:5|ms|#ok:FALSE\n", 3);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 8);
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 5);
    ck_assert_double_eq_tol(plugin_host_number(&h, "action.success_rate"), 37.5, 1e-9);

    /* records it does not read change nothing; a malformed line is refused
     * by the parser and the rest of the datagram still counts */
    plugin_host_send_lines(&h, "action:1|c\naction.queue:1|c\naction.current:3|g\naction.other:1|ms\n", 4);
    plugin_host_send_lines(&h, "action:5|ms\naction:abc|ms\naction:5|ms\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 10);
    ck_assert(plugin_host_is_gap(&h, "action.queue"));
    ck_assert(plugin_host_is_gap(&h, "action.current"));
    /* other subscriptions' names are not ours */
    plugin_host_send_lines(&h, "actions:5|ms\nevent:5|ms\n", 2);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 10);
    plugin_host_free(&h);
}
END_TEST

/* Sends 2000 actions (every 4th failed, names a..e) and queue changes, as
 * the ingest thread would, while the test's thread ticks. */
static gpointer ingest_thread(gpointer data)
{
    plugin_host *h = data;
    for (int i = 0; i < 2000; i++) {
        char line[96];
        g_snprintf(line, sizeof line, "action:%d|ms|#name:%c,ok:%s\naction.queue:+1|g\n", i % 50,
                   'a' + i % 5, i % 4 == 0 ? "false" : "true");
        ck_assert_uint_eq(plugin_host_send(h, line), 2);
    }
    return NULL;
}

START_TEST(test_records_and_ticks_at_once)
{
    plugin_host h;
    plugin_host_load_plugin(&h, "[plugin:action]\ntop_names = 3\n");
    GThread *sender = g_thread_new("ingest", ingest_thread, &h);
    for (int i = 0; i < 200; i++)
        plugin_host_tick(&h);
    g_thread_join(sender);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "action.total"), 2000);
    ck_assert_double_eq(plugin_host_number(&h, "action.errors"), 500);
    ck_assert_double_eq(plugin_host_number(&h, "action.queue"), 2000);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.a.count"), 400);
    ck_assert_double_eq(plugin_host_number(&h, "action.by_name.other.count"), 800);
    ck_assert_double_eq(plugin_host_number(&h, "action.success_rate"), 75);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_invalid_config_fails_init)
{
    static const struct {
        const char *ini, *reason;
    } cases[] = {
        {"[plugin:action]\ntop_names = -1\n", "top_names"},
        {"[plugin:action]\ntop_names = 101\n", "top_names"},
        {"[plugin:action]\nwindow = 0.5\n", "window"},
        {"[plugin:action]\nwindow = 3601\n", "window"},
        {"[plugin:action]\nwindow = nan\n", "window"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        plugin_host h;
        plugin_host_load(&h, plugin_host_plugin_dir(), cases[i].ini);
        const vitals_loaded_plugin *lp = vitals_plugins_find(h.plugins, "action");
        ck_assert_ptr_nonnull(lp);
        ck_assert_msg(lp->status == VITALS_PLUGIN_FAILED, "%s loaded", cases[i].ini);
        ck_assert_msg(lp->error && strstr(lp->error, cases[i].reason),
                      "error \"%s\" does not mention \"%s\"", lp->error, cases[i].reason);
        /* it did not subscribe: records reach no one */
        ck_assert_uint_eq(vitals_router_count(h.router), 0);
        plugin_host_free(&h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("action_plugin");
    TCase *tc = tcase_create("action_plugin");
    tcase_add_unchecked_fixture(tc, setup, plugin_host_remove_plugin_dir);
    tcase_add_test(tc, test_descriptors);
    tcase_add_test(tc, test_counts_rates_and_success);
    tcase_add_test(tc, test_sample_rates);
    tcase_add_test(tc, test_window_expires);
    tcase_add_test(tc, test_fractional_window_rounds_up);
    tcase_add_test(tc, test_queue_gauge_and_deltas);
    tcase_add_test(tc, test_current_action);
    tcase_add_test(tc, test_names_capped_at_top_names);
    tcase_add_test(tc, test_name_ids_are_sanitised_and_unique);
    tcase_add_test(tc, test_outcomes_and_unread_records);
    tcase_add_test(tc, test_records_and_ticks_at_once);
    tcase_add_test(tc, test_invalid_config_fails_init);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
