/*
 * test_system_plugin.c — the bundled system plugin (plugins/system), loaded
 * by the real loader from the build tree (VITALS_BUILD_PLUGINS_DIR):
 * plausible machine and process values, a child process watched by pid and
 * by name, and gaps, not crashes, when the watched process does not exist
 * or exits.
 *
 * The host and its config directory come from plugin_host.c.  Config files
 * go to one g_mkdtemp() directory, made and removed by an unchecked fixture
 * in the parent process.  Watched children sleep at most
 * 20 s, so a failed test leaves nothing running for long.
 */
#include <check.h>
#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin_host.h"
#include "run_suite.h"

/* The metrics of the watched process, which show gaps when it is gone. */
static const char *const process_metrics[] = {
    "system.process", "system.process_cpu_percent", "system.process_rss",
    "system.process_threads", "system.process_count",
};

static void setup(void) { plugin_host_make_dir("system"); }

/* Loads the build tree's plugins with `ini_text` as vitals.ini (NULL: none). */
static void load_plugins(plugin_host *h, const char *ini_text)
{
    plugin_host_load(h, VITALS_BUILD_PLUGINS_DIR, ini_text);
}

/* Like load_plugins(), then asserts that the system plugin runs. */
static void load_system(plugin_host *h, const char *ini_text)
{
    load_plugins(h, ini_text);
    const vitals_loaded_plugin *lp = vitals_plugins_find(h->plugins, "system");
    ck_assert_msg(lp != NULL, "no system.so in " VITALS_BUILD_PLUGINS_DIR);
    ck_assert_msg(lp->status == VITALS_PLUGIN_RUNNING, "system: %s", lp->error);
}

static bool is_gap(const plugin_host *h, const char *id)
{
    return plugin_host_value(h, id)->type == VITALS_VALUE_NONE;
}

/* Asserts that system.process reads "NAME (pid)". */
static void assert_watching(const plugin_host *h, pid_t pid)
{
    const vitals_value *v = plugin_host_value(h, "system.process");
    ck_assert_msg(v->type == VITALS_VALUE_TEXT, "system.process has no text");
    char suffix[32];
    snprintf(suffix, sizeof suffix, " (%d)", (int)pid);
    ck_assert_msg(g_str_has_suffix(v->text, suffix), "system.process is \"%s\", not pid %d",
                  v->text, (int)pid);
}

static void assert_process_gaps(const plugin_host *h)
{
    for (size_t i = 0; i < G_N_ELEMENTS(process_metrics); i++)
        ck_assert_msg(is_gap(h, process_metrics[i]), "%s has a value", process_metrics[i]);
}

/* The machine's metrics are there whatever happens to the watched process. */
static void assert_machine_values(const plugin_host *h)
{
    double cpu = plugin_host_number(h, "system.cpu_percent");
    ck_assert(cpu >= 0 && cpu <= 100);
    ck_assert(plugin_host_number(h, "system.memory_used") > 0);
    double memory = plugin_host_number(h, "system.memory_percent");
    ck_assert(memory > 0 && memory <= 100);
}

/*
 * Forks a child that sleeps (20 s at most), renamed to `name` when not NULL,
 * after forking a sleeping grandchild when `with_grandchild`; returns once
 * both exist.  The child leads its own process group for stop_sleeper().
 */
static pid_t start_sleeper(const char *name, bool with_grandchild)
{
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        if (name)
            prctl(PR_SET_NAME, name, 0, 0, 0);
        alarm(20);
        if (with_grandchild && fork() == 0) {
            alarm(20);
            pause();
            _exit(0);
        }
        char byte = 1;
        if (write(ready[1], &byte, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    setpgid(pid, pid);
    close(ready[1]);
    char byte;
    ck_assert_int_eq(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    return pid;
}

/* Kills a sleeper with its grandchild and reaps it. */
static void stop_sleeper(pid_t pid)
{
    kill(-pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}

/* The ticks that give every metric a value: the CPU figures need two. */
static void two_ticks(plugin_host *h)
{
    plugin_host_tick(h);
    g_usleep(200 * 1000);
    plugin_host_tick(h);
}

START_TEST(test_watches_the_host_by_default)
{
    plugin_host h;
    load_system(&h, NULL);
    plugin_host_tick(&h);
    /* CPU use needs two readings: none yet */
    ck_assert(is_gap(&h, "system.cpu_percent"));
    ck_assert(is_gap(&h, "system.process_cpu_percent"));
    assert_watching(&h, getpid());

    g_usleep(200 * 1000);
    plugin_host_tick(&h);
    assert_machine_values(&h);
    assert_watching(&h, getpid());
    ck_assert(plugin_host_number(&h, "system.process_cpu_percent") >= 0);
    ck_assert(plugin_host_number(&h, "system.process_rss") > 0);
    ck_assert(plugin_host_number(&h, "system.process_threads") >= 1);
    ck_assert(plugin_host_number(&h, "system.process_count") >= 1);
    plugin_host_free(&h);
}
END_TEST

START_TEST(test_watches_a_pid_and_its_descendants)
{
    pid_t child = start_sleeper(NULL, true);
    char *ini = g_strdup_printf("[plugin:system]\npid = %d\n", (int)child);
    plugin_host h;
    load_system(&h, ini);
    two_ticks(&h);
    assert_watching(&h, child);
    ck_assert_double_eq(plugin_host_number(&h, "system.process_threads"), 1);
    ck_assert_double_eq(plugin_host_number(&h, "system.process_count"), 2); /* it and its child */
    double cpu = plugin_host_number(&h, "system.process_cpu_percent");
    ck_assert(cpu >= 0 && cpu <= 100);
    ck_assert(plugin_host_number(&h, "system.process_rss") > 0);

    stop_sleeper(child);
    g_usleep(200 * 1000); /* so that the machine's CPU reading has ticks to count */
    plugin_host_tick(&h);
    assert_process_gaps(&h);
    assert_machine_values(&h);
    plugin_host_free(&h);
    g_free(ini);
}
END_TEST

START_TEST(test_watches_a_name_and_finds_it_again)
{
    char *name = g_strdup_printf("vsleep%d", (int)(getpid() % 100000));
    char *ini = g_strdup_printf("[plugin:system]\nprocess = %s\n", name);
    pid_t first = start_sleeper(name, false);
    plugin_host h;
    load_system(&h, ini);
    two_ticks(&h);
    assert_watching(&h, first);
    ck_assert(plugin_host_number(&h, "system.process_cpu_percent") >= 0);

    stop_sleeper(first);
    plugin_host_tick(&h);
    assert_process_gaps(&h);

    pid_t second = start_sleeper(name, false);
    plugin_host_tick(&h);
    assert_watching(&h, second);
    ck_assert(is_gap(&h, "system.process_cpu_percent")); /* a new process: no CPU reading yet */
    ck_assert_double_eq(plugin_host_number(&h, "system.process_count"), 1);
    g_usleep(200 * 1000);
    plugin_host_tick(&h);
    ck_assert(plugin_host_number(&h, "system.process_cpu_percent") >= 0);
    stop_sleeper(second);
    plugin_host_free(&h);
    g_free(ini);
    g_free(name);
}
END_TEST

START_TEST(test_nonexistent_pid_gives_gaps)
{
    /* pids stay below pid_max, so pid_max itself never exists */
    char *text = NULL;
    ck_assert(g_file_get_contents("/proc/sys/kernel/pid_max", &text, NULL, NULL));
    char *ini = g_strdup_printf("[plugin:system]\npid = %d\n", atoi(text));
    plugin_host h;
    load_system(&h, ini);
    two_ticks(&h);
    assert_process_gaps(&h);
    assert_machine_values(&h);
    plugin_host_free(&h);
    g_free(ini);
    g_free(text);
}
END_TEST

START_TEST(test_invalid_config_fails_init)
{
    static const struct {
        const char *ini, *reason;
    } cases[] = {
        {"[plugin:system]\npid = -1\n", "pid"},
        {"[plugin:system]\npid = 1\nprocess = init\n", "not both"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        plugin_host h;
        load_plugins(&h, cases[i].ini);
        const vitals_loaded_plugin *lp = vitals_plugins_find(h.plugins, "system");
        ck_assert_ptr_nonnull(lp);
        ck_assert(lp->status == VITALS_PLUGIN_FAILED);
        ck_assert_msg(lp->error && strstr(lp->error, cases[i].reason),
                      "error \"%s\" does not mention \"%s\"", lp->error, cases[i].reason);
        plugin_host_free(&h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("system_plugin");
    TCase *tc = tcase_create("system_plugin");
    tcase_add_unchecked_fixture(tc, setup, plugin_host_remove_dir);
    tcase_add_test(tc, test_watches_the_host_by_default);
    tcase_add_test(tc, test_watches_a_pid_and_its_descendants);
    tcase_add_test(tc, test_watches_a_name_and_finds_it_again);
    tcase_add_test(tc, test_nonexistent_pid_gives_gaps);
    tcase_add_test(tc, test_invalid_config_fails_init);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
