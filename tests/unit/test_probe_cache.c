/*
 * test_probe_cache.c — unit tests of core/probe_cache.c: a verdict holds
 * for the size and mtime it was stored with, a changed file has none, and
 * entries of files that are gone are dropped.
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "probe_cache.h"
#include "run_suite.h"

static char *dir, *cache, *plugin;

static void setup(void)
{
    dir = g_build_filename(g_get_tmp_dir(), "vitals-test-probe-cache-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(dir));
    cache = g_build_filename(dir, "sub", "probe-cache.ini", NULL); /* sub/ does not exist yet */
    plugin = g_build_filename(dir, "crash.so", NULL);
    ck_assert(g_file_set_contents(plugin, "not really ELF", -1, NULL));
}

static void teardown(void)
{
    g_remove(cache);
    g_remove(plugin);
    char *sub = g_path_get_dirname(cache);
    g_rmdir(sub);
    g_free(sub);
    g_rmdir(dir);
    g_free(cache);
    g_free(plugin);
    g_free(dir);
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    return st;
}

START_TEST(test_no_file_no_verdict)
{
    struct stat st = stat_of(plugin);
    vitals_verdict v;
    ck_assert(!vitals_probe_cache_lookup(cache, plugin, &st, &v, NULL));
}
END_TEST

START_TEST(test_stored_verdict_comes_back)
{
    struct stat st = stat_of(plugin);
    ck_assert(vitals_probe_cache_store(cache, plugin, &st, VITALS_VERDICT_CRASHED,
                                       "killed by signal 11 (Segmentation fault)"));
    vitals_verdict v = VITALS_VERDICT_OK;
    char *reason = NULL;
    ck_assert(vitals_probe_cache_lookup(cache, plugin, &st, &v, &reason));
    ck_assert_int_eq(v, VITALS_VERDICT_CRASHED);
    ck_assert_str_eq(reason, "killed by signal 11 (Segmentation fault)");
    g_free(reason);
    /* A later verdict for the same file replaces it. */
    ck_assert(vitals_probe_cache_store(cache, plugin, &st, VITALS_VERDICT_OK, NULL));
    ck_assert(vitals_probe_cache_lookup(cache, plugin, &st, &v, &reason));
    ck_assert_int_eq(v, VITALS_VERDICT_OK);
    ck_assert_ptr_null(reason);
}
END_TEST

START_TEST(test_touched_or_resized_file_has_no_verdict)
{
    struct stat st = stat_of(plugin);
    ck_assert(vitals_probe_cache_store(cache, plugin, &st, VITALS_VERDICT_HUNG, "hung"));
    struct utimbuf times = {st.st_atime, st.st_mtime + 10};
    ck_assert_int_eq(utime(plugin, &times), 0);
    struct stat touched = stat_of(plugin);
    vitals_verdict v;
    ck_assert(!vitals_probe_cache_lookup(cache, plugin, &touched, &v, NULL));
    ck_assert(g_file_set_contents(plugin, "a new, longer version of the file", -1, NULL));
    struct stat resized = stat_of(plugin);
    ck_assert(!vitals_probe_cache_lookup(cache, plugin, &resized, &v, NULL));
}
END_TEST

START_TEST(test_gone_files_are_pruned)
{
    char *other = g_build_filename(dir, "gone.so", NULL);
    ck_assert(g_file_set_contents(other, "x", -1, NULL));
    struct stat st_other = stat_of(other), st = stat_of(plugin);
    ck_assert(vitals_probe_cache_store(cache, other, &st_other, VITALS_VERDICT_CRASHED, "x"));
    g_remove(other);
    ck_assert(vitals_probe_cache_store(cache, plugin, &st, VITALS_VERDICT_OK, NULL));
    char *text = NULL;
    ck_assert(g_file_get_contents(cache, &text, NULL, NULL));
    ck_assert_msg(strstr(text, "gone.so") == NULL, "%s", text);
    ck_assert_msg(strstr(text, "crash.so") != NULL, "%s", text);
    g_free(text);
    g_free(other);
}
END_TEST

START_TEST(test_unwritable_cache_is_not_fatal)
{
    struct stat st = stat_of(plugin);
    /* A path below a regular file cannot be made. */
    char *bad = g_build_filename(plugin, "cache.ini", NULL);
    ck_assert(!vitals_probe_cache_store(bad, plugin, &st, VITALS_VERDICT_OK, NULL));
    vitals_verdict v;
    ck_assert(!vitals_probe_cache_lookup(bad, plugin, &st, &v, NULL));
    g_free(bad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe_cache");
    TCase *tc = tcase_create("probe_cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_no_file_no_verdict);
    tcase_add_test(tc, test_stored_verdict_comes_back);
    tcase_add_test(tc, test_touched_or_resized_file_has_no_verdict);
    tcase_add_test(tc, test_gone_files_are_pruned);
    tcase_add_test(tc, test_unwritable_cache_is_not_fatal);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
