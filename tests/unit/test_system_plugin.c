/*
 * test_system_plugin.c — the bundled system plugin (plugins/system), loaded
 * by the real loader from the build tree (VITALS_BUILD_PLUGINS_DIR):
 * plausible machine and process values, a child process watched by pid and
 * by name, and gaps, not crashes, when the watched process does not exist
 * or exits.
 *
 * Config files go to one g_mkdtemp() directory, made and removed by an
 * unchecked fixture in the parent process.  Watched children sleep at most
 * 20 s, so a failed test leaves nothing running for long.
 */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader.h"

/* The metrics of the watched process, which show gaps when it is gone. */
static const char *const process_metrics[] = {
    "system.process", "system.process_cpu_percent", "system.process_rss",
    "system.process_threads", "system.process_count",
};

static char *tmp_dir;
static char *ini_path;

static void setup(void)
{
    tmp_dir = g_build_filename(g_get_tmp_dir(), "vitals-test-system-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(tmp_dir));
    ini_path = g_build_filename(tmp_dir, "vitals.ini", NULL);
}

static void teardown(void)
{
    g_remove(ini_path);
    g_rmdir(tmp_dir);
    g_free(ini_path);
    g_free(tmp_dir);
}

/* The bundled plugins loaded by the host's loader, with what they use. */
typedef struct host {
    vitals_config cfg;
    vitals_registry *reg;
    vitals_plugins *plugins;
    vitals_frame *frame; /* the latest tick, or NULL */
} host;

/* Loads the build tree's plugins with `ini_text` as vitals.ini (NULL: none). */
static void host_load(host *h, const char *ini_text)
{
    memset(h, 0, sizeof *h);
    vitals_config_init(&h->cfg);
    if (ini_text) {
        GError *error = NULL;
        ck_assert(g_file_set_contents(ini_path, ini_text, -1, NULL));
        ck_assert_msg(vitals_config_load(&h->cfg, ini_path, &error), "config: %s",
                      error ? error->message : "?");
    }
    h->reg = vitals_registry_new(300);
    h->plugins = vitals_plugins_load(VITALS_BUILD_PLUGINS_DIR, &h->cfg, h->reg, 1.0);
}

/* Like host_load(), then asserts that the system plugin runs. */
static void host_load_system(host *h, const char *ini_text)
{
    host_load(h, ini_text);
    const vitals_loaded_plugin *lp = vitals_plugins_find(h->plugins, "system");
    ck_assert_msg(lp != NULL, "no system.so in " VITALS_BUILD_PLUGINS_DIR);
    ck_assert_msg(lp->status == VITALS_PLUGIN_RUNNING, "system: %s", lp->error);
}

static void host_free(host *h)
{
    if (h->frame)
        vitals_frame_unref(h->frame);
    vitals_plugins_shutdown(h->plugins);
    vitals_registry_free(h->reg);
    vitals_config_clear(&h->cfg);
}

/* One tick: every running plugin collects, then the registry freezes a frame. */
static void host_tick(host *h)
{
    vitals_plugins_collect(h->plugins);
    if (h->frame)
        vitals_frame_unref(h->frame);
    h->frame = vitals_registry_snapshot(h->reg, (double)g_get_real_time() / G_USEC_PER_SEC);
}

/* The value of metric `id` in the latest frame. */
static const vitals_value *value_of(const host *h, const char *id)
{
    int index = vitals_registry_find(h->reg, id);
    ck_assert_msg(index >= 0, "metric %s is not registered", id);
    ck_assert_ptr_nonnull(h->frame);
    ck_assert_uint_lt((guint)index, h->frame->descs->count);
    return &h->frame->values[index];
}

static double number_of(const host *h, const char *id)
{
    const vitals_value *v = value_of(h, id);
    ck_assert_msg(v->type == VITALS_VALUE_NUMBER, "%s has no number", id);
    return v->number;
}

static bool is_gap(const host *h, const char *id) { return value_of(h, id)->type == VITALS_VALUE_NONE; }

/* Asserts that system.process reads "NAME (pid)". */
static void assert_watching(const host *h, pid_t pid)
{
    const vitals_value *v = value_of(h, "system.process");
    ck_assert_msg(v->type == VITALS_VALUE_TEXT, "system.process has no text");
    char suffix[32];
    snprintf(suffix, sizeof suffix, " (%d)", (int)pid);
    ck_assert_msg(g_str_has_suffix(v->text, suffix), "system.process is \"%s\", not pid %d",
                  v->text, (int)pid);
}

static void assert_process_gaps(const host *h)
{
    for (size_t i = 0; i < G_N_ELEMENTS(process_metrics); i++)
        ck_assert_msg(is_gap(h, process_metrics[i]), "%s has a value", process_metrics[i]);
}

/* The machine's metrics are there whatever happens to the watched process. */
static void assert_machine_values(const host *h)
{
    double cpu = number_of(h, "system.cpu_percent");
    ck_assert(cpu >= 0 && cpu <= 100);
    ck_assert(number_of(h, "system.memory_used") > 0);
    double memory = number_of(h, "system.memory_percent");
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
static void two_ticks(host *h)
{
    host_tick(h);
    g_usleep(200 * 1000);
    host_tick(h);
}

START_TEST(test_watches_the_host_by_default)
{
    host h;
    host_load_system(&h, NULL);
    host_tick(&h);
    /* CPU use needs two readings: none yet */
    ck_assert(is_gap(&h, "system.cpu_percent"));
    ck_assert(is_gap(&h, "system.process_cpu_percent"));
    assert_watching(&h, getpid());

    g_usleep(200 * 1000);
    host_tick(&h);
    assert_machine_values(&h);
    assert_watching(&h, getpid());
    ck_assert(number_of(&h, "system.process_cpu_percent") >= 0);
    ck_assert(number_of(&h, "system.process_rss") > 0);
    ck_assert(number_of(&h, "system.process_threads") >= 1);
    ck_assert(number_of(&h, "system.process_count") >= 1);
    host_free(&h);
}
END_TEST

START_TEST(test_watches_a_pid_and_its_descendants)
{
    pid_t child = start_sleeper(NULL, true);
    char *ini = g_strdup_printf("[plugin:system]\npid = %d\n", (int)child);
    host h;
    host_load_system(&h, ini);
    two_ticks(&h);
    assert_watching(&h, child);
    ck_assert_double_eq(number_of(&h, "system.process_threads"), 1);
    ck_assert_double_eq(number_of(&h, "system.process_count"), 2); /* it and its child */
    double cpu = number_of(&h, "system.process_cpu_percent");
    ck_assert(cpu >= 0 && cpu <= 100);
    ck_assert(number_of(&h, "system.process_rss") > 0);

    stop_sleeper(child);
    g_usleep(200 * 1000); /* so that the machine's CPU reading has ticks to count */
    host_tick(&h);
    assert_process_gaps(&h);
    assert_machine_values(&h);
    host_free(&h);
    g_free(ini);
}
END_TEST

START_TEST(test_watches_a_name_and_finds_it_again)
{
    char *name = g_strdup_printf("vsleep%d", (int)(getpid() % 100000));
    char *ini = g_strdup_printf("[plugin:system]\nprocess = %s\n", name);
    pid_t first = start_sleeper(name, false);
    host h;
    host_load_system(&h, ini);
    two_ticks(&h);
    assert_watching(&h, first);
    ck_assert(number_of(&h, "system.process_cpu_percent") >= 0);

    stop_sleeper(first);
    host_tick(&h);
    assert_process_gaps(&h);

    pid_t second = start_sleeper(name, false);
    host_tick(&h);
    assert_watching(&h, second);
    ck_assert(is_gap(&h, "system.process_cpu_percent")); /* a new process: no CPU reading yet */
    ck_assert_double_eq(number_of(&h, "system.process_count"), 1);
    g_usleep(200 * 1000);
    host_tick(&h);
    ck_assert(number_of(&h, "system.process_cpu_percent") >= 0);
    stop_sleeper(second);
    host_free(&h);
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
    host h;
    host_load_system(&h, ini);
    two_ticks(&h);
    assert_process_gaps(&h);
    assert_machine_values(&h);
    host_free(&h);
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
        host h;
        host_load(&h, cases[i].ini);
        const vitals_loaded_plugin *lp = vitals_plugins_find(h.plugins, "system");
        ck_assert_ptr_nonnull(lp);
        ck_assert(lp->status == VITALS_PLUGIN_FAILED);
        ck_assert_msg(lp->error && strstr(lp->error, cases[i].reason),
                      "error \"%s\" does not mention \"%s\"", lp->error, cases[i].reason);
        host_free(&h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("system_plugin");
    TCase *tc = tcase_create("system_plugin");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_watches_the_host_by_default);
    tcase_add_test(tc, test_watches_a_pid_and_its_descendants);
    tcase_add_test(tc, test_watches_a_name_and_finds_it_again);
    tcase_add_test(tc, test_nonexistent_pid_gives_gaps);
    tcase_add_test(tc, test_invalid_config_fails_init);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
