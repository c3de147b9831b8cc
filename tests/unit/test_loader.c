/*
 * test_loader.c — unit tests of core/loader.c, with plugin_api.c,
 * registry.c and config.c behind it, against the fixture plugins of
 * tests/plugins/ (built into VITALS_FIXTURES_DIR): the good one runs and
 * sees its config, every broken one is refused with a reason that names
 * what is wrong, and the host keeps going either way.
 *
 * Each test loads the whole fixture directory into a fresh registry (check
 * forks every test, so modules loaded by one test never leak into the
 * next), through the harness of plugin_host.c.  Config files go to one
 * g_mkdtemp() directory, made and removed by an unchecked fixture in the
 * parent process.
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin_host.h"
#include "run_suite.h"
#include "supervisor.h"

/* Every .so the fixture directory holds, and only those. */
static const char *const fixture_names[] = {
    "bad_descriptor", "failing_init", "good", "missing_symbol",
    "name_mismatch", "newer_minor", "no_entry", "wrong_abi",
};
#define FIXTURE_COUNT (sizeof fixture_names / sizeof fixture_names[0])

static void setup(void) { plugin_host_make_dir("loader"); }

/* The plugin loaded from NAME.so; fails the test when there is none. */
static const vitals_loaded_plugin *plugin_named(const plugin_host *h, const char *name)
{
    const vitals_loaded_plugin *lp = vitals_plugins_find(h->plugins, name);
    ck_assert_msg(lp != NULL, "%s.so is not in the plugin set", name);
    return lp;
}

/* How many metrics of the current descriptor set `plugin` registered. */
static guint metrics_of(const plugin_host *h, const char *plugin)
{
    vitals_desc_set *set = vitals_registry_descriptors(h->reg);
    guint count = 0;
    for (guint i = 0; i < set->count; i++)
        count += strcmp(set->items[i]->plugin, plugin) == 0;
    vitals_desc_set_unref(set);
    return count;
}

/* Asserts that NAME.so was refused and that its error holds each of the
 * NULL-terminated strings that follow. */
static void assert_refused(const plugin_host *h, const char *name, ...)
{
    const vitals_loaded_plugin *lp = plugin_named(h, name);
    ck_assert_msg(lp->status == VITALS_PLUGIN_FAILED, "%s.so is not FAILED", name);
    ck_assert_msg(lp->error != NULL, "%s.so failed without a reason", name);
    va_list ap;
    va_start(ap, name);
    for (const char *part; (part = va_arg(ap, const char *)) != NULL;)
        ck_assert_msg(strstr(lp->error, part) != NULL, "%s.so: error \"%s\" does not mention \"%s\"",
                      name, lp->error, part);
    va_end(ap);
    ck_assert_uint_eq(metrics_of(h, name), 0);
}

START_TEST(test_good_runs_with_config_defaults)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    const vitals_loaded_plugin *good = plugin_named(&h, "good");
    ck_assert_msg(good->status == VITALS_PLUGIN_RUNNING, "good: %s", good->error);
    ck_assert_uint_eq(good->metrics, 3);
    ck_assert_uint_eq(metrics_of(&h, "good"), 3);

    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "good.value"), 5);
    ck_assert_double_eq(plugin_host_number(&h, "good.ticks"), 1);
    ck_assert_str_eq(plugin_host_text(&h, "good.label"), "hello");
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "good.ticks"), 2);
    plugin_host_free(&h);
}
END_TEST

/* The host's ABI as the loader writes it, e.g. "1.1". */
#define STR2(x) #x
#define STR(x) STR2(x)
#define HOST_ABI STR(VITALS_PLUGIN_ABI_MAJOR) "." STR(VITALS_PLUGIN_ABI_MINOR)

START_TEST(test_wrong_abi_names_both_versions)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    assert_refused(&h, "wrong_abi", "99.0", HOST_ABI, NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_newer_minor_names_both_versions)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    char *newer = g_strdup_printf("%d.%d", VITALS_PLUGIN_ABI_MAJOR, VITALS_PLUGIN_ABI_MINOR + 1);
    assert_refused(&h, "newer_minor", newer, HOST_ABI, NULL);
    g_free(newer);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_no_entry_names_the_symbol)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    assert_refused(&h, "no_entry", "vitals_plugin_entry", NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_failing_init_keeps_its_reason)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    assert_refused(&h, "failing_init", "cannot open the frobnicator", NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_missing_symbol_fails_at_load)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    assert_refused(&h, "missing_symbol", "vitals_fixture_undefined_symbol", NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_name_mismatch_names_both)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    assert_refused(&h, "name_mismatch", "other", "name_mismatch", NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_bad_descriptors_are_refused_one_by_one)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    const vitals_loaded_plugin *lp = plugin_named(&h, "bad_descriptor");
    /* the fixture's init fails, saying which, if the host accepts a bad one */
    ck_assert_msg(lp->status == VITALS_PLUGIN_RUNNING, "bad_descriptor: %s", lp->error);
    ck_assert_uint_eq(lp->metrics, 1);
    ck_assert_uint_eq(metrics_of(&h, "bad_descriptor"), 1);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "bad_descriptor.ok"), 1);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_only_good_plugins_run)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    ck_assert_uint_eq(vitals_plugins_running(h.plugins), 2); /* good, bad_descriptor */
    plugin_host_tick(&h); /* collects only those: missing_symbol's collect would crash */
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_config_file_reaches_the_plugin)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, "[plugin:good]\nstart = 42\nlabel = world\n");
    const vitals_loaded_plugin *good = plugin_named(&h, "good");
    ck_assert_msg(good->status == VITALS_PLUGIN_RUNNING, "good: %s", good->error);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "good.value"), 42);
    ck_assert_str_eq(plugin_host_text(&h, "good.label"), "world");
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_disabled_plugin_does_not_run)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, "[plugin:good]\nenabled = false\n");
    ck_assert(plugin_named(&h, "good")->status == VITALS_PLUGIN_DISABLED);
    ck_assert_int_eq(vitals_registry_find(h.reg, "good.value"), -1);
    ck_assert_uint_eq(vitals_plugins_running(h.plugins), 1);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_unknown_key_fails_naming_it)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, "[plugin:good]\nstart = 1\nfrobnicate = yes\n");
    assert_refused(&h, "good", "frobnicate", "[plugin:good]", NULL);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_missing_directory_gives_an_empty_set)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR "/no-such-directory", NULL);
    ck_assert_uint_eq(h.plugins->all->len, 0);
    ck_assert_uint_eq(vitals_plugins_running(h.plugins), 0);
    plugin_host_tick(&h);
    ck_assert_uint_eq(h.frame->descs->count, 0);
    plugin_host_free(&h);
}
END_TEST

/* tests/plugins/CMakeLists.txt also puts README.txt, libnot_a_plugin.so.1
 * and a subdirectory into the fixture directory. */
START_TEST(test_other_files_and_directories_are_ignored)
{
    plugin_host h;
    plugin_host_load(&h, VITALS_FIXTURES_DIR, NULL);
    ck_assert_uint_eq(h.plugins->all->len, FIXTURE_COUNT);
    for (size_t i = 0; i < FIXTURE_COUNT; i++)
        plugin_named(&h, fixture_names[i]);
    ck_assert_ptr_null(vitals_plugins_find(h.plugins, "README"));
    ck_assert_ptr_null(vitals_plugins_find(h.plugins, "subdir"));
    plugin_host_free(&h);
}
END_TEST

/* ---- faults: who may write a plugin, metric limits, stalled collects ---- */

/* A fresh 0700 directory holding a copy of fixture `from` (a path below
 * VITALS_FIXTURES_DIR) as NAME.so; returns the directory. */
static char *dir_with_copy(const char *from, const char *name)
{
    char *dir = g_build_filename(g_get_tmp_dir(), "vitals-test-loader-so-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(dir));
    char *src = g_build_filename(VITALS_FIXTURES_DIR, from, NULL);
    char *file = g_strdup_printf("%s/%s.so", dir, name);
    gchar *bytes = NULL;
    gsize len = 0;
    ck_assert_msg(g_file_get_contents(src, &bytes, &len, NULL), "no %s", src);
    ck_assert(g_file_set_contents(file, bytes, (gssize)len, NULL));
    ck_assert_int_eq(g_chmod(file, 0644), 0);
    g_free(bytes);
    g_free(file);
    g_free(src);
    return dir;
}

/* Removes what dir_with_copy() made. */
static void remove_dir_with_copy(char *dir, const char *name)
{
    char *file = g_strdup_printf("%s/%s.so", dir, name);
    g_chmod(dir, 0700);
    g_remove(file);
    g_rmdir(dir);
    g_free(file);
    g_free(dir);
}

START_TEST(test_plugins_others_can_write_are_refused)
{
    char *dir = dir_with_copy("good.so", "good");
    char *file = g_strdup_printf("%s/good.so", dir);
    plugin_host h;
    ck_assert_int_eq(g_chmod(file, 0646), 0);
    plugin_host_load(&h, dir, NULL);
    assert_refused(&h, "good", "writable by every user", "mode 0646", "chmod go-w", NULL);
    plugin_host_free(&h);

    ck_assert_int_eq(g_chmod(file, 0664), 0);
    plugin_host_load(&h, dir, NULL);
    assert_refused(&h, "good", "writable by its group", NULL);
    plugin_host_free(&h);

    ck_assert_int_eq(g_chmod(file, 0644), 0);
    ck_assert_int_eq(g_chmod(dir, 0707), 0);
    plugin_host_load(&h, dir, NULL);
    assert_refused(&h, "good", "its directory", "writable by every user", NULL);
    plugin_host_free(&h);

    ck_assert_int_eq(g_chmod(dir, 0755), 0);
    plugin_host_load(&h, dir, NULL);
    ck_assert_msg(plugin_named(&h, "good")->status == VITALS_PLUGIN_RUNNING, "good: %s",
                  plugin_named(&h, "good")->error);
    plugin_host_free(&h);
    g_free(file);
    remove_dir_with_copy(dir, "good");
}
END_TEST

START_TEST(test_metrics_per_plugin_are_capped)
{
    char *dir = dir_with_copy("faults/huge.so", "huge");
    plugin_host h;
    plugin_host_load(&h, dir, NULL);
    const vitals_loaded_plugin *huge = plugin_named(&h, "huge");
    ck_assert_msg(huge->status == VITALS_PLUGIN_RUNNING, "huge: %s", huge->error);
    ck_assert_uint_eq(huge->metrics, VITALS_PLUGIN_MAX_METRICS);
    ck_assert_uint_eq(metrics_of(&h, "huge"), VITALS_PLUGIN_MAX_METRICS);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "huge.accepted"), VITALS_PLUGIN_MAX_METRICS);
    plugin_host_free(&h);
    remove_dir_with_copy(dir, "huge");
}
END_TEST

/* Ticks every 50 ms until `done(h)`, for at most 10 s; returns whether it
 * came true.  (A tick returns at once when it has nothing to wait for.) */
static gboolean tick_until(plugin_host *h, gboolean (*done)(plugin_host *h))
{
    for (int i = 0; i < 200; i++) {
        g_usleep(50 * 1000);
        plugin_host_tick(h);
        if (done(h))
            return TRUE;
    }
    return FALSE;
}

static gboolean hang_stalled(plugin_host *h)
{
    return vitals_supervisor_state(plugin_named(h, "hang")) == VITALS_STATE_STALLED;
}

static gboolean hang_running(plugin_host *h)
{
    return vitals_supervisor_state(plugin_named(h, "hang")) == VITALS_STATE_RUNNING &&
           !plugin_host_is_gap(h, "hang.collects");
}

/* Loads hang.so alone with a 0.2 s deadline, hanging while `flag` exists. */
static char *load_hang(plugin_host *h, char **flag)
{
    char *dir = dir_with_copy("faults/hang.so", "hang");
    *flag = g_strdup_printf("%s/hang-now", dir);
    char *ini = g_strdup_printf("[plugin:hang]\nwhile_exists = %s\ndeadline = 0.2\n", *flag);
    plugin_host_load(h, dir, ini);
    g_free(ini);
    ck_assert_msg(plugin_named(h, "hang")->status == VITALS_PLUGIN_RUNNING, "hang: %s",
                  plugin_named(h, "hang")->error);
    return dir;
}

START_TEST(test_stalled_collect_shows_gaps_and_recovers)
{
    plugin_host h;
    char *flag = NULL, *dir = load_hang(&h, &flag);
    plugin_host_tick(&h);
    ck_assert_double_eq(plugin_host_number(&h, "hang.collects"), 1);
    ck_assert(g_file_set_contents(flag, "", 0, NULL));
    ck_assert_msg(tick_until(&h, hang_stalled), "hang never became stalled");
    /* Each tick returned although collect() did not: the frame shows a gap. */
    ck_assert(plugin_host_is_gap(&h, "hang.collects"));
    ck_assert_str_eq(plugin_host_text(&h, "vitals.plugin.hang.state"), "stalled");
    ck_assert_double_eq(plugin_host_number(&h, "vitals.plugin.hang.faults"), 1);
    plugin_host_tick(&h);
    ck_assert(plugin_host_is_gap(&h, "hang.collects"));
    g_remove(flag);
    ck_assert_msg(tick_until(&h, hang_running), "hang never recovered");
    ck_assert_double_ge(plugin_host_number(&h, "hang.collects"), 2);
    ck_assert_str_eq(plugin_host_text(&h, "vitals.plugin.hang.state"), "running");
    plugin_host_free(&h);
    g_free(flag);
    remove_dir_with_copy(dir, "hang");
}
END_TEST

START_TEST(test_stalled_plugin_can_be_unloaded)
{
    plugin_host h;
    char *flag = NULL, *dir = load_hang(&h, &flag);
    ck_assert(g_file_set_contents(flag, "", 0, NULL));
    ck_assert_msg(tick_until(&h, hang_stalled), "hang never became stalled");
    /* Its collect() is stuck in its code: the host lets go of it anyway. */
    ck_assert(vitals_plugins_unload(h.plugins, "hang"));
    ck_assert_int_eq(vitals_registry_find(h.reg, "hang.collects"), -1);
    plugin_host_tick(&h);
    g_remove(flag); /* collect() returns into a plugin the host forgot */
    g_usleep(300 * 1000);
    plugin_host_tick(&h);
    plugin_host_free(&h);
    g_free(flag);
    remove_dir_with_copy(dir, "hang");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_add_unchecked_fixture(tc, setup, plugin_host_remove_dir);
    tcase_add_test(tc, test_good_runs_with_config_defaults);
    tcase_add_test(tc, test_wrong_abi_names_both_versions);
    tcase_add_test(tc, test_newer_minor_names_both_versions);
    tcase_add_test(tc, test_no_entry_names_the_symbol);
    tcase_add_test(tc, test_failing_init_keeps_its_reason);
    tcase_add_test(tc, test_missing_symbol_fails_at_load);
    tcase_add_test(tc, test_name_mismatch_names_both);
    tcase_add_test(tc, test_bad_descriptors_are_refused_one_by_one);
    tcase_add_test(tc, test_only_good_plugins_run);
    tcase_add_test(tc, test_config_file_reaches_the_plugin);
    tcase_add_test(tc, test_disabled_plugin_does_not_run);
    tcase_add_test(tc, test_unknown_key_fails_naming_it);
    tcase_add_test(tc, test_missing_directory_gives_an_empty_set);
    tcase_add_test(tc, test_other_files_and_directories_are_ignored);
    tcase_add_test(tc, test_plugins_others_can_write_are_refused);
    tcase_add_test(tc, test_metrics_per_plugin_are_capped);
    tcase_add_test(tc, test_stalled_collect_shows_gaps_and_recovers);
    tcase_add_test(tc, test_stalled_plugin_can_be_unloaded);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
