/*
 * fuzz_config.c — libFuzzer target for core/config.c and config_plugin.c.
 *
 * Why: the host refuses to start on a bad vitals.ini, and must say where,
 * never crash.  The input is the file's content, written to a memfd and
 * loaded through /proc/self/fd/N, exactly as a file is.  When it loads,
 * every [plugin:NAME] section is checked against a schema with one key of
 * each type (and `enabled`), as the loader does.  Errors must carry a
 * message that names the file; a failed load must leave the config as it
 * was (the defaults).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_config: %s\n", what);
    abort();
}

typedef struct state {
    bool flag;
    int64_t count;
    double ratio;
    const char *name;
} state;

static const vitals_config_entry schema[] = {
    {"flag", VITALS_CFG_BOOL, "false", offsetof(state, flag), NULL},
    {"count", VITALS_CFG_INT, "3", offsetof(state, count), NULL},
    {"ratio", VITALS_CFG_DOUBLE, "0.5", offsetof(state, ratio), NULL},
    {"name", VITALS_CFG_STRING, "x", offsetof(state, name), NULL},
    {NULL, VITALS_CFG_END, NULL, 0, NULL},
};

static int fd = -1;
static char path[64];

static void plugins(const vitals_config *cfg)
{
    gchar **groups = g_key_file_get_groups(cfg->keyfile, NULL);
    for (gchar **g = groups; *g; g++) {
        if (!g_str_has_prefix(*g, "plugin:"))
            continue;
        const char *name = *g + strlen("plugin:");
        GError *error = NULL;
        gboolean enabled = vitals_config_plugin_enabled(cfg, name, &error);
        if (error) {
            if (enabled || !strstr(error->message, path))
                fail("bad `enabled` error");
            g_clear_error(&error);
        }
        state st = {0};
        GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
        if (!vitals_config_fill_plugin(cfg, name, schema, &st, owned, &error)) {
            if (!error || !strstr(error->message, path))
                fail("plugin section refused without naming the file");
            g_clear_error(&error);
        } else if (!st.name) {
            fail("string key left unset despite its default");
        }
        g_ptr_array_free(owned, TRUE);
        (void)vitals_config_line(cfg, *g, NULL);
        (void)vitals_config_line(cfg, *g, "count");
    }
    g_strfreev(groups);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        vitals_log_set_level(VITALS_LOG_ERROR); /* unknown sections warn */
        fd = memfd_create("vitals-fuzz.ini", 0);
        if (fd < 0)
            fail("memfd_create");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        fail("cannot write the memfd");

    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    if (vitals_config_load(&cfg, path, &error)) {
        if (!cfg.listen || !cfg.plugins_dir || cfg.port < 0 || cfg.port > 65535 ||
            cfg.history < 2 || cfg.history > 100000 || !(cfg.interval >= 0.05 && cfg.interval <= 3600))
            fail("loaded a value outside its range");
        plugins(&cfg);
    } else {
        if (!error || !strstr(error->message, path))
            fail("refused without naming the file");
        if (cfg.path || cfg.port != VITALS_DEFAULT_PORT || cfg.history != VITALS_DEFAULT_HISTORY)
            fail("a failed load changed the config");
        g_error_free(error);
    }
    vitals_config_clear(&cfg);
    return 0;
}
