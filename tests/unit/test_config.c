/*
 * test_config.c — unit tests of core/config.c: defaults, [host] keys and
 * values, the line numbers in every message, unknown sections, and the
 * plugin sections filled through a schema.
 *
 * Each test writes its vitals.ini into one g_mkdtemp() directory, made and
 * removed by an unchecked fixture (in the parent process), so that nothing
 * is left behind even when a forked test fails.  Warnings are caught by
 * pointing stderr at a file in the same directory.
 */
#include <check.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "run_suite.h"

static char *tmp_dir;
static char *ini_path;
static char *capture_path;

static void setup(void)
{
    tmp_dir = g_build_filename(g_get_tmp_dir(), "vitals-test-config-XXXXXX", NULL);
    ck_assert_ptr_nonnull(g_mkdtemp(tmp_dir));
    ini_path = g_build_filename(tmp_dir, "vitals.ini", NULL);
    capture_path = g_build_filename(tmp_dir, "stderr.txt", NULL);
}

static void teardown(void)
{
    g_remove(ini_path);
    g_remove(capture_path);
    g_rmdir(tmp_dir);
    g_free(capture_path);
    g_free(ini_path);
    g_free(tmp_dir);
}

/* Each test starts without a vitals.ini. */
static void setup_test(void)
{
    g_remove(ini_path);
}

/* Writes `text` to the test's vitals.ini and returns its path. */
static const char *write_ini(const char *text)
{
    ck_assert(g_file_set_contents(ini_path, text, -1, NULL));
    return ini_path;
}

/* Stderr capture, so that warnings can be checked. */
static int saved_stderr = -1;

static void capture_start(void)
{
    int fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* Restores stderr; returns what was written meanwhile (newly allocated). */
static char *capture_stop(void)
{
    char *text = NULL;
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    ck_assert(g_file_get_contents(capture_path, &text, NULL, NULL));
    g_remove(capture_path);
    return text;
}

/* Loads `text` and expects failure with `code` and the message
 * "<path><rest>". */
static void expect_load_error(const char *text, int code, const char *rest)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    const char *path = write_ini(text);
    ck_assert(!vitals_config_load(&cfg, path, &error));
    ck_assert_ptr_nonnull(error);
    ck_assert(error->domain == VITALS_CONFIG_ERROR);
    ck_assert_int_eq(error->code, code);
    char *want = g_strconcat(path, rest, NULL);
    ck_assert_str_eq(error->message, want);
    g_free(want);
    g_error_free(error);
    vitals_config_clear(&cfg);
}

START_TEST(test_defaults)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    ck_assert_ptr_null(cfg.path);
    ck_assert_str_eq(cfg.listen, VITALS_DEFAULT_LISTEN);
    ck_assert_int_eq(cfg.port, VITALS_DEFAULT_PORT);
    ck_assert(cfg.interval == VITALS_DEFAULT_INTERVAL);
    ck_assert_int_eq(cfg.history, VITALS_DEFAULT_HISTORY);
    ck_assert_str_eq(cfg.plugins_dir, VITALS_DEFAULT_PLUGINS_DIR);
    ck_assert_ptr_null(cfg.web_root);
    ck_assert_int_eq(cfg.log_level, VITALS_LOG_INFO);
    ck_assert_ptr_nonnull(cfg.keyfile);
    ck_assert_ptr_nonnull(cfg.lines);
    ck_assert_uint_eq(g_hash_table_size(cfg.lines), 0);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "port"), 0);
    GError *error = NULL;
    ck_assert(vitals_config_plugin_enabled(&cfg, "system", &error));
    ck_assert_ptr_null(error);
    vitals_config_clear(&cfg);
    vitals_config_clear(&cfg); /* twice is harmless */
}
END_TEST

START_TEST(test_good_file)
{
    const char *text = "# a comment\n"
                       "; another comment\n"
                       "\n"
                       "  [host]  \r\n"
                       "listen=0.0.0.0\n"
                       "\tport   =   9000   \n"
                       "interval = 0.25\n"
                       "history = 100000\n"
                       "  ; indented comment\n"
                       "plugins_dir = /opt/vitals/plugins\n"
                       "web_root = /srv/web\\sroot\n"
                       "log_level = DEBUG\n"
                       "[plugin:system]\n"
                       "enabled = true\n";
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    capture_start();
    gboolean ok = vitals_config_load(&cfg, write_ini(text), &error);
    char *log = capture_stop();
    ck_assert_msg(ok, "%s", error ? error->message : "");
    ck_assert_str_eq(log, "");
    ck_assert_str_eq(cfg.path, ini_path);
    ck_assert_str_eq(cfg.listen, "0.0.0.0");
    ck_assert_int_eq(cfg.port, 9000);
    ck_assert_double_eq(cfg.interval, 0.25);
    ck_assert_int_eq(cfg.history, 100000);
    ck_assert_str_eq(cfg.plugins_dir, "/opt/vitals/plugins");
    ck_assert_str_eq(cfg.web_root, "/srv/web root");
    ck_assert_int_eq(cfg.log_level, VITALS_LOG_DEBUG);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", NULL), 4);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "listen"), 5);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "port"), 6);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "log_level"), 12);
    ck_assert_int_eq(vitals_config_line(&cfg, "plugin:system", NULL), 13);
    ck_assert_int_eq(vitals_config_line(&cfg, "plugin:system", "enabled"), 14);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "nope"), 0);
    ck_assert_int_eq(vitals_config_line(&cfg, "nope", NULL), 0);
    g_free(log);
    vitals_config_clear(&cfg);
}
END_TEST

START_TEST(test_partial_file_keeps_defaults)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    ck_assert(vitals_config_load(&cfg, write_ini("[host]\nport = 0\nweb_root =\n"), NULL));
    ck_assert_int_eq(cfg.port, 0);
    ck_assert_str_eq(cfg.listen, VITALS_DEFAULT_LISTEN);
    ck_assert_str_eq(cfg.plugins_dir, VITALS_DEFAULT_PLUGINS_DIR);
    ck_assert_ptr_null(cfg.web_root); /* empty means none */
    /* A second load reads over the first. */
    ck_assert(vitals_config_load(&cfg, write_ini("[host]\nhistory = 2\n"), NULL));
    ck_assert_int_eq(cfg.port, 0);
    ck_assert_int_eq(cfg.history, 2);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "port"), 0);
    /* A UTF-8 byte order mark at the start is accepted. */
    ck_assert(vitals_config_load(&cfg, write_ini("\xEF\xBB\xBF[host]\nport = 5\n"), NULL));
    ck_assert_int_eq(cfg.port, 5);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", NULL), 1);
    vitals_config_clear(&cfg);
}
END_TEST

START_TEST(test_unknown_host_key)
{
    expect_load_error("# vitals\n"
                      "\n"
                      "[host]\n"
                      "listen = 127.0.0.1\n"
                      "; comment\n"
                      "\n"
                      "prot = 8765\n"
                      "also_bad = 1\n",
                      VITALS_CONFIG_ERROR_KEY,
                      ":7: unknown key 'prot' in [host]; valid keys: listen, port, interval, "
                      "history, plugins_dir, web_root, log_level, ping_interval, ws_max_message, "
                      "max_clients, send_timeout, http_timeout, auth_token, allow_anonymous, "
                      "allowed_origins, tls_cert, tls_key");
    /* A key with a locale suffix, which GKeyFile hides, is still unknown. */
    expect_load_error("[host]\nport[de] = 1\n", VITALS_CONFIG_ERROR_KEY,
                      ":2: unknown key 'port[de]' in [host]; valid keys: listen, port, "
                      "interval, history, plugins_dir, web_root, log_level, ping_interval, "
                      "ws_max_message, max_clients, send_timeout, http_timeout, auth_token, "
                      "allow_anonymous, allowed_origins, tls_cert, tls_key");
}
END_TEST

START_TEST(test_bad_port)
{
    expect_load_error("[host]\n\n\n\n\n\nport = abc\n", VITALS_CONFIG_ERROR_VALUE,
                      ":7: key 'port' in [host]: 'abc' is not an integer 0..65535");
    expect_load_error("[host]\nport = 65536\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'port' in [host]: '65536' is not an integer 0..65535");
    expect_load_error("[host]\nport = -1\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'port' in [host]: '-1' is not an integer 0..65535");
    expect_load_error("[host]\nport = 80 # http\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'port' in [host]: '80 # http' is not an integer 0..65535");
    expect_load_error("[host]\nport = 99999999999999999999999\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'port' in [host]: '99999999999999999999999' is not an "
                      "integer 0..65535");
}
END_TEST

START_TEST(test_bad_interval)
{
    const char *rest = ":3: key 'interval' in [host]: '%s' is not a number of seconds "
                       "0.05..3600";
    const char *bad[] = { "0.01", "3601", "fast", "nan", "inf", "", "1s" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *text = g_strdup_printf("[host]\nport = 1\ninterval = %s\n", bad[i]);
        char *msg = g_strdup_printf(rest, bad[i]);
        expect_load_error(text, VITALS_CONFIG_ERROR_VALUE, msg);
        g_free(msg);
        g_free(text);
    }
}
END_TEST

START_TEST(test_bad_history_and_strings)
{
    expect_load_error("[host]\nhistory = 1\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'history' in [host]: '1' is not an integer 2..100000");
    expect_load_error("[host]\nlisten =\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'listen' in [host]: '' is not an address (such as "
                      "127.0.0.1 or 0.0.0.0)");
    expect_load_error("[host]\nplugins_dir = \n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'plugins_dir' in [host]: '' is not a directory");
    /* GKeyFile's own complaint about a value keeps the location. */
    expect_load_error("[host]\nlisten = a\\qb\n", VITALS_CONFIG_ERROR_VALUE,
                      ":2: key 'listen' in [host]: Key file contains key “listen” which "
                      "has a value that cannot be interpreted.");
}
END_TEST

START_TEST(test_bad_log_level)
{
    expect_load_error("[host]\nlog_level = info\n\nlog_level = loud\n",
                      VITALS_CONFIG_ERROR_VALUE,
                      ":4: key 'log_level' in [host]: 'loud' is not one of error, warn, "
                      "info, debug");
}
END_TEST

START_TEST(test_syntax_error)
{
    expect_load_error("[host]\nport = 1\nthis is not ini\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":3: Key file contains line “this is not ini” which is not a "
                      "key-value pair, group, or comment");
    expect_load_error("# top\nport = 1\n[host]\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":2: Key file does not start with a group");
    expect_load_error("[host]\n[]\n", VITALS_CONFIG_ERROR_SYNTAX, ":2: Invalid group name: ");
    expect_load_error("[host]\n[host] x\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":2: Key file contains line “[host] x” which is not a key-value "
                      "pair, group, or comment");
    /* No line the scan can point at: the file name and GKeyFile's message. */
    expect_load_error("[host]\na]b = 1\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ": Invalid key name: a]b");
    expect_load_error("[host]\n[a[b]\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":2: Invalid group name: a[b");
    expect_load_error("[host]\nx = 1\n[plugin:x\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":3: Key file contains line “[plugin:x” which is not a key-value "
                      "pair, group, or comment");
    expect_load_error("[host]\n\n\xEF\xBB\xBF\n", VITALS_CONFIG_ERROR_SYNTAX,
                      ":3: Key file contains line “\xEF\xBB\xBF” which is not a key-value "
                      "pair, group, or comment");
}
END_TEST

START_TEST(test_missing_file)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    ck_assert(!vitals_config_load(&cfg, ini_path, &error)); /* never written */
    ck_assert_ptr_nonnull(error);
    ck_assert(error->domain == VITALS_CONFIG_ERROR);
    ck_assert_int_eq(error->code, VITALS_CONFIG_ERROR_READ);
    ck_assert_ptr_nonnull(strstr(error->message, ini_path));
    g_error_free(error);
    vitals_config_clear(&cfg);
}
END_TEST

START_TEST(test_failed_load_changes_nothing)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    ck_assert(vitals_config_load(&cfg, write_ini("[host]\nport = 1234\n"), NULL));
    char *first = g_strdup(cfg.path);
    GError *error = NULL;
    ck_assert(!vitals_config_load(&cfg, write_ini("[host]\nlisten = ::1\nport = x\n"),
                                  &error));
    g_clear_error(&error);
    ck_assert_str_eq(cfg.path, first);
    ck_assert_str_eq(cfg.listen, VITALS_DEFAULT_LISTEN);
    ck_assert_int_eq(cfg.port, 1234);
    ck_assert_int_eq(vitals_config_line(&cfg, "host", "port"), 2);
    ck_assert(!g_key_file_has_key(cfg.keyfile, "host", "listen", NULL));
    g_free(first);
    vitals_config_clear(&cfg);
}
END_TEST

START_TEST(test_unknown_group_warns)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    capture_start();
    gboolean ok = vitals_config_load(
        &cfg, write_ini("[host]\nport = 1\n\n[ingest2]\nudp = 1\n[plugin:]\n[plugin:x]\n"),
        &error);
    char *log = capture_stop();
    ck_assert_msg(ok, "%s", error ? error->message : "");
    ck_assert_int_eq(cfg.port, 1);
    char *want = g_strdup_printf("[config] %s:4: unknown section [ingest2] ignored", ini_path);
    ck_assert_msg(strstr(log, want), "log: %s", log);
    ck_assert_ptr_nonnull(strstr(log, "warn"));
    ck_assert_ptr_nonnull(strstr(log, "known: [host], [ingest], [probe], [plugin:NAME]"));
    g_free(want);
    want = g_strdup_printf("%s:6: unknown section [plugin:]", ini_path);
    ck_assert_msg(strstr(log, want), "log: %s", log);
    ck_assert_ptr_null(strstr(log, "[plugin:x]"));
    g_free(want);
    g_free(log);
    vitals_config_clear(&cfg);
}
END_TEST

START_TEST(test_plugin_enabled)
{
    const char *good[][2] = { { "true", "1" }, { "TRUE", "1" }, { "yes", "1" }, { "1", "1" },
                              { "false", "0" }, { "No", "0" }, { "0", "0" } };
    vitals_config cfg;
    GError *error = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        vitals_config_init(&cfg);
        char *text = g_strdup_printf("[plugin:a]\nenabled = %s\n[plugin:b]\n", good[i][0]);
        ck_assert(vitals_config_load(&cfg, write_ini(text), NULL));
        ck_assert_int_eq(vitals_config_plugin_enabled(&cfg, "a", &error), good[i][1][0] == '1');
        ck_assert_ptr_null(error);
        ck_assert(vitals_config_plugin_enabled(&cfg, "b", &error)); /* key absent */
        ck_assert(vitals_config_plugin_enabled(&cfg, "c", &error)); /* section absent */
        ck_assert_ptr_null(error);
        g_free(text);
        vitals_config_clear(&cfg);
    }
    vitals_config_init(&cfg);
    ck_assert(vitals_config_load(&cfg, write_ini("[plugin:a]\n\nenabled = maybe\n"), NULL));
    ck_assert(!vitals_config_plugin_enabled(&cfg, "a", &error));
    ck_assert_ptr_nonnull(error);
    ck_assert_int_eq(error->code, VITALS_CONFIG_ERROR_VALUE);
    char *want = g_strdup_printf("%s:3: key 'enabled' in [plugin:a]: 'maybe' is not a "
                                 "boolean (true/false)", ini_path);
    ck_assert_str_eq(error->message, want);
    g_free(want);
    g_error_free(error);
    vitals_config_clear(&cfg);
}
END_TEST

/* A plugin's state and schema covering every type. */
struct demo {
    bool flag;
    int64_t count;
    double ratio;
    const char *name;
    const char *unset;
    int64_t kept;
};

static const vitals_config_entry demo_schema[] = {
    { "flag", VITALS_CFG_BOOL, "false", offsetof(struct demo, flag), "a flag" },
    { "count", VITALS_CFG_INT, "7", offsetof(struct demo, count), "a count" },
    { "ratio", VITALS_CFG_DOUBLE, "0.5", offsetof(struct demo, ratio), "a ratio" },
    { "name", VITALS_CFG_STRING, "anon", offsetof(struct demo, name), "a name" },
    { "unset", VITALS_CFG_STRING, NULL, offsetof(struct demo, unset), "no default" },
    { "kept", VITALS_CFG_INT, NULL, offsetof(struct demo, kept), "no default" },
    { 0 },
};

/* Loads `text`, fills a struct demo for plugin "demo"; returns the result. */
static gboolean fill_demo(const char *text, const vitals_config_entry *schema,
                          struct demo *st, GPtrArray *owned, GError **error)
{
    vitals_config cfg;
    vitals_config_init(&cfg);
    ck_assert(vitals_config_load(&cfg, write_ini(text), NULL));
    memset(st, 0, sizeof *st);
    st->kept = 42;
    gboolean ok = vitals_config_fill_plugin(&cfg, "demo", schema, st, owned, error);
    vitals_config_clear(&cfg);
    return ok;
}

START_TEST(test_fill_every_type)
{
    struct demo st;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    ck_assert(fill_demo("[plugin:demo]\nenabled = true\nflag = YES\ncount = -9000000000\n"
                        "ratio = 1e-3\nname = worker\\t1\nunset = \n",
                        demo_schema, &st, owned, &error));
    ck_assert_ptr_null(error);
    ck_assert(st.flag);
    ck_assert(st.count == INT64_C(-9000000000));
    ck_assert_double_eq(st.ratio, 1e-3);
    ck_assert_str_eq(st.name, "worker\t1");
    ck_assert_str_eq(st.unset, "");
    ck_assert(st.kept == 42); /* absent, no default: untouched */
    /* The strings belong to `owned`, nothing else. */
    ck_assert_uint_eq(owned->len, 2);
    ck_assert_ptr_eq(g_ptr_array_index(owned, 0), st.name);
    ck_assert_ptr_eq(g_ptr_array_index(owned, 1), st.unset);
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_fill_defaults)
{
    struct demo st;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    /* No section at all: every default. */
    ck_assert(fill_demo("[host]\n", demo_schema, &st, owned, NULL));
    ck_assert(!st.flag);
    ck_assert(st.count == 7);
    ck_assert_double_eq(st.ratio, 0.5);
    ck_assert_str_eq(st.name, "anon");
    ck_assert_ptr_null(st.unset);
    ck_assert(st.kept == 42);
    ck_assert_uint_eq(owned->len, 1);
    /* An empty section, and a NULL schema. */
    ck_assert(fill_demo("[plugin:demo]\n", demo_schema, &st, owned, NULL));
    ck_assert(st.count == 7);
    ck_assert(fill_demo("[plugin:demo]\nenabled = no\n", NULL, &st, owned, NULL));
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_fill_unknown_key)
{
    struct demo st;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    ck_assert(!fill_demo("[host]\n[plugin:demo]\nflag = true\n# c\nwhat = 1\ncolour = red\n",
                         demo_schema, &st, owned, &error));
    ck_assert_int_eq(error->code, VITALS_CONFIG_ERROR_KEY);
    char *want = g_strdup_printf("%s:5: unknown key 'what' in [plugin:demo]; valid keys: "
                                 "enabled, isolate, deadline, flag, count, ratio, name, unset, kept", ini_path);
    ck_assert_str_eq(error->message, want);
    g_free(want);
    g_clear_error(&error);
    ck_assert(!fill_demo("[plugin:demo]\nx = 1\n", NULL, &st, owned, &error));
    want = g_strdup_printf("%s:2: unknown key 'x' in [plugin:demo]; valid keys: enabled, "
                           "isolate, deadline",
                           ini_path);
    ck_assert_str_eq(error->message, want);
    g_free(want);
    g_clear_error(&error);
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_fill_bad_value)
{
    static const struct {
        const char *text, *rest;
    } cases[] = {
        { "flag = sure", ":3: key 'flag' in [plugin:demo]: 'sure' is not a boolean (true/false)" },
        { "count = 1.5", ":3: key 'count' in [plugin:demo]: '1.5' is not an integer" },
        { "ratio = half", ":3: key 'ratio' in [plugin:demo]: 'half' is not a number" },
        { "ratio = -inf", ":3: key 'ratio' in [plugin:demo]: '-inf' is not a finite number" },
    };
    struct demo st;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        char *text = g_strdup_printf("[plugin:demo]\nenabled = true\n%s\n", cases[i].text);
        ck_assert(!fill_demo(text, demo_schema, &st, owned, &error));
        ck_assert_int_eq(error->code, VITALS_CONFIG_ERROR_VALUE);
        char *want = g_strconcat(ini_path, cases[i].rest, NULL);
        ck_assert_str_eq(error->message, want);
        g_free(want);
        g_free(text);
        g_error_free(error);
    }
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_fill_bad_schema)
{
    static const vitals_config_entry bad_default[] = {
        { "n", VITALS_CFG_INT, "abc", 0, "" },
        { 0 },
    };
    static const vitals_config_entry reserved[] = {
        { "enabled", VITALS_CFG_BOOL, "true", 0, "" },
        { 0 },
    };
    static const vitals_config_entry bad_type[] = {
        { "n", (vitals_config_type)99, NULL, 0, "" },
        { 0 },
    };
    struct demo st;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    ck_assert(!fill_demo("[host]\n", bad_default, &st, owned, &error));
    ck_assert_str_eq(error->message,
                     "plugin 'demo' schema: default 'abc' for key 'n' is not an integer");
    g_clear_error(&error);
    /* A good value in the file does not need the bad default. */
    ck_assert(fill_demo("[plugin:demo]\nn = 3\n", bad_default, &st, owned, &error));
    ck_assert(!fill_demo("[host]\n", reserved, &st, owned, &error));
    ck_assert_str_eq(error->message,
                     "plugin 'demo' schema: key 'enabled' is reserved for the host");
    g_clear_error(&error);
    ck_assert(!fill_demo("[host]\n", bad_type, &st, owned, &error));
    ck_assert_str_eq(error->message, "plugin 'demo' schema: key 'n' has unknown type 99");
    g_clear_error(&error);
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_parse_value)
{
    const char *why = NULL;
    bool b = false;
    int64_t i = 0;
    double d = 0;
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);

    ck_assert(vitals_config_parse_value(VITALS_CFG_BOOL, "Yes", &b, NULL, &why) && b);
    ck_assert(vitals_config_parse_value(VITALS_CFG_BOOL, "0", &b, NULL, &why) && !b);
    ck_assert(!vitals_config_parse_value(VITALS_CFG_BOOL, "on", &b, NULL, &why));
    ck_assert_str_eq(why, "not a boolean (true/false)");
    ck_assert(!vitals_config_parse_value(VITALS_CFG_BOOL, "", &b, NULL, &why));

    ck_assert(vitals_config_parse_value(VITALS_CFG_INT, "-42", &i, NULL, &why) && i == -42);
    ck_assert(vitals_config_parse_value(VITALS_CFG_INT, "9223372036854775807", &i, NULL, &why));
    ck_assert(i == INT64_MAX);
    i = 5;
    const char *bad_ints[] = { "", " 1", "1 ", "0x10", "1e3", "12abc", "abc" };
    for (size_t k = 0; k < G_N_ELEMENTS(bad_ints); k++) {
        ck_assert_msg(!vitals_config_parse_value(VITALS_CFG_INT, bad_ints[k], &i, NULL, &why),
                      "'%s'", bad_ints[k]);
        ck_assert_str_eq(why, "not an integer");
    }
    ck_assert(i == 5); /* untouched on failure */
    ck_assert(!vitals_config_parse_value(VITALS_CFG_INT, "9223372036854775808", &i, NULL, &why));
    ck_assert_str_eq(why, "not an integer in the 64-bit range");

    ck_assert(vitals_config_parse_value(VITALS_CFG_DOUBLE, "2.5e1", &d, NULL, &why));
    ck_assert_double_eq(d, 25.0);
    ck_assert(vitals_config_parse_value(VITALS_CFG_DOUBLE, "-3", &d, NULL, &why) && d == -3);
    const char *bad_nums[] = { "", " 1", "1.0x", "one" };
    for (size_t k = 0; k < G_N_ELEMENTS(bad_nums); k++) {
        ck_assert(!vitals_config_parse_value(VITALS_CFG_DOUBLE, bad_nums[k], &d, NULL, &why));
        ck_assert_str_eq(why, "not a number");
    }
    const char *infinite[] = { "nan", "NaN", "inf", "-Infinity", "1e999" };
    for (size_t k = 0; k < G_N_ELEMENTS(infinite); k++) {
        ck_assert(!vitals_config_parse_value(VITALS_CFG_DOUBLE, infinite[k], &d, NULL, &why));
        ck_assert_str_eq(why, "not a finite number");
    }
    ck_assert(d == -3);

    const char *s = NULL;
    ck_assert(vitals_config_parse_value(VITALS_CFG_STRING, "x y", &s, owned, &why));
    ck_assert_str_eq(s, "x y");
    ck_assert_ptr_eq(g_ptr_array_index(owned, 0), s);
    /* dest NULL only checks; why may be NULL. */
    ck_assert(vitals_config_parse_value(VITALS_CFG_STRING, "z", NULL, NULL, NULL));
    ck_assert(vitals_config_parse_value(VITALS_CFG_INT, "3", NULL, NULL, NULL));
    ck_assert(!vitals_config_parse_value(VITALS_CFG_INT, "x", NULL, NULL, NULL));
    ck_assert_uint_eq(owned->len, 1);
    ck_assert(!vitals_config_parse_value(VITALS_CFG_END, "1", &i, NULL, &why));
    ck_assert(!vitals_config_parse_value(VITALS_CFG_INT, NULL, &i, NULL, &why));
    g_ptr_array_free(owned, TRUE);
}
END_TEST

START_TEST(test_repo_conf)
{
    /* The shipped file loads with no error and no warning, and the system
     * plugin's schema (pid, process) accepts its section. */
    struct sys {
        int64_t pid;
        const char *process;
    } st = { 0, NULL };
    static const vitals_config_entry sys_schema[] = {
        { "pid", VITALS_CFG_INT, NULL, offsetof(struct sys, pid), "" },
        { "process", VITALS_CFG_STRING, NULL, offsetof(struct sys, process), "" },
        { 0 },
    };
    char *path = g_build_filename(VITALS_SOURCE_DIR, "conf", "vitals.ini", NULL);
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    capture_start();
    gboolean ok = vitals_config_load(&cfg, path, &error);
    char *log = capture_stop();
    ck_assert_msg(ok, "%s", error ? error->message : "");
    ck_assert_str_eq(log, "");
    ck_assert_str_eq(cfg.listen, VITALS_DEFAULT_LISTEN);
    ck_assert_int_eq(cfg.port, VITALS_DEFAULT_PORT);
    ck_assert(cfg.interval == VITALS_DEFAULT_INTERVAL);
    ck_assert_int_eq(cfg.history, VITALS_DEFAULT_HISTORY);
    ck_assert_str_eq(cfg.plugins_dir, VITALS_DEFAULT_PLUGINS_DIR);
    ck_assert_ptr_null(cfg.web_root);
    ck_assert_int_eq(cfg.log_level, VITALS_LOG_INFO);
    ck_assert(vitals_config_plugin_enabled(&cfg, "system", &error));
    ck_assert_ptr_null(error);
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    ck_assert(vitals_config_fill_plugin(&cfg, "system", sys_schema, &st, owned, &error));
    ck_assert(st.pid == 0);
    ck_assert_ptr_null(st.process);
    g_ptr_array_free(owned, TRUE);
    g_free(log);
    g_free(path);
    vitals_config_clear(&cfg);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_checked_fixture(tc, setup_test, NULL);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_good_file);
    tcase_add_test(tc, test_partial_file_keeps_defaults);
    tcase_add_test(tc, test_unknown_host_key);
    tcase_add_test(tc, test_bad_port);
    tcase_add_test(tc, test_bad_interval);
    tcase_add_test(tc, test_bad_history_and_strings);
    tcase_add_test(tc, test_bad_log_level);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_failed_load_changes_nothing);
    tcase_add_test(tc, test_unknown_group_warns);
    tcase_add_test(tc, test_plugin_enabled);
    tcase_add_test(tc, test_fill_every_type);
    tcase_add_test(tc, test_fill_defaults);
    tcase_add_test(tc, test_fill_unknown_key);
    tcase_add_test(tc, test_fill_bad_value);
    tcase_add_test(tc, test_fill_bad_schema);
    tcase_add_test(tc, test_parse_value);
    tcase_add_test(tc, test_repo_conf);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vitals_run_suite(config_suite());
}
