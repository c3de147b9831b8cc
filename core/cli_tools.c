/*
 * cli_tools.c — `vitals --list-plugins`, `vitals --check-config FILE`, and
 * the install-relative default paths.
 *
 * Both tools reuse the host's own parts: --list-plugins runs the real
 * loader on a private registry (and router), so what it prints is what the
 * host would run; --check-config reuses the config module's checks and
 * opens each plugin like the loader does, but only reads its constant
 * descriptor — no plugin callback runs.  Neither starts a socket or thread.
 *
 * The default paths follow the tree the binary runs from (see cli_tools.h),
 * so `cmake --install build --prefix DIR` yields a host that finds
 * DIR/lib/vitals/plugins and DIR/etc/vitals/vitals.ini without flags.
 */
#include "cli_tools.h"

#include <errno.h>
#include <gmodule.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"
#include "log.h"
#include "registry.h"
#include "router.h"

#if !defined(VITALS_INSTALL_PREFIX) || !defined(VITALS_INSTALL_BINDIR) || \
    !defined(VITALS_INSTALL_LIBDIR) || !defined(VITALS_INSTALL_SYSCONFDIR)
#error "the build must define VITALS_INSTALL_PREFIX, _BINDIR, _LIBDIR and _SYSCONFDIR"
#endif

#define PLUGIN_PREFIX "plugin:"

/* The smallest vitals_plugin_info a 1.0 plugin may present (as the loader). */
#define INFO_SIZE_1_0 (offsetof(vitals_plugin_info, shutdown) + sizeof(void (*)(void)))

/* ---- default paths ------------------------------------------------------- */

typedef struct default_paths {
    char *plugins_dir;
    char *config_file;
} default_paths;

/* `dir` under `prefix` when relative, `dir` itself when absolute; newly
 * allocated. */
static char *under_prefix(const char *prefix, const char *dir)
{
    return g_path_is_absolute(dir) ? g_strdup(dir) : g_build_filename(prefix, dir, NULL);
}

/* The prefix P the running binary was installed under, when it runs as
 * P/VITALS_INSTALL_BINDIR/vitals; NULL when it does not (a build tree) or
 * when its path cannot be read.  Newly allocated. */
static char *running_prefix(void)
{
    const char *bin = VITALS_INSTALL_BINDIR;
    if (g_path_is_absolute(bin))
        return NULL; /* an absolute bindir does not move with a prefix */
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe)
        return NULL;
    char *dir = g_path_get_dirname(exe);
    g_free(exe);
    size_t n = strlen(dir), b = strlen(bin);
    char *prefix = NULL;
    if (n > b && strcmp(dir + n - b, bin) == 0 && dir[n - b - 1] == '/')
        prefix = n - b - 1 > 0 ? g_strndup(dir, n - b - 1) : g_strdup("/");
    g_free(dir);
    return prefix;
}

/* TRUE when `a` and `b` name the same existing directory (symbolic links
 * resolved), or are the same string. */
static gboolean same_directory(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return TRUE;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    gboolean same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

/* Computes the defaults once: the running prefix's paths when the binary
 * runs from an installed tree other than the configured prefix (one holding
 * <libdir>/vitals), else the paths the build baked in. */
static const default_paths *defaults(void)
{
    static default_paths paths;
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        char *prefix = running_prefix();
        if (prefix && !same_directory(prefix, VITALS_INSTALL_PREFIX)) {
            char *libdir = under_prefix(prefix, VITALS_INSTALL_LIBDIR);
            char *ours = g_build_filename(libdir, "vitals", NULL);
            if (g_file_test(ours, G_FILE_TEST_IS_DIR)) {
                char *etc = under_prefix(prefix, VITALS_INSTALL_SYSCONFDIR);
                paths.plugins_dir = g_build_filename(ours, "plugins", NULL);
                paths.config_file = g_build_filename(etc, "vitals", "vitals.ini", NULL);
                g_free(etc);
            }
            g_free(ours);
            g_free(libdir);
        }
        g_free(prefix);
        if (!paths.plugins_dir) {
            paths.plugins_dir = g_strdup(VITALS_DEFAULT_PLUGINS_DIR);
            paths.config_file = g_strdup(VITALS_DEFAULT_CONFIG_FILE);
        }
        g_once_init_leave(&done, 1);
    }
    return &paths;
}

/* See cli_tools.h. */
const char *vitals_default_plugins_dir(void)
{
    return defaults()->plugins_dir;
}

/* See cli_tools.h. */
const char *vitals_default_config_file(void)
{
    return defaults()->config_file;
}

/* See cli_tools.h. */
void vitals_cli_config_init(vitals_config *cfg)
{
    vitals_config_init(cfg);
    g_free(cfg->plugins_dir);
    cfg->plugins_dir = g_strdup(vitals_default_plugins_dir());
}

/* ---- opening a plugin without running it ----------------------------------- */

/*
 * Opens `path` as the loader does (a regular file, not a symbolic link;
 * every symbol resolved now, bound locally) and checks its descriptor: the
 * entry symbol, ABI major equal and a large enough struct (so its fields
 * can be read at all), and when `strict` also the minor not newer than the
 * host's and the name `name`.  Only the constant entry getter runs.
 * Returns the module (close it with g_module_close() once done with *info)
 * and sets *info; or returns NULL with *why set to a newly allocated reason.
 */
static GModule *probe_plugin(const char *path, const char *name, gboolean strict,
                             const vitals_plugin_info **info, char **why)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        *why = g_strdup_printf("cannot stat: %s", g_strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = g_strdup("not a regular file (symbolic links are not followed)");
        return NULL;
    }
    GModule *module = g_module_open(path, G_MODULE_BIND_LOCAL);
    if (!module) {
        *why = g_strdup_printf("cannot load: %s (run `ldd -r %s` to list what is missing)",
                               g_module_error(), path);
        return NULL;
    }
    gpointer symbol = NULL;
    const vitals_plugin_info *pi = NULL;
    if (!g_module_symbol(module, VITALS_PLUGIN_ENTRY_SYMBOL, &symbol) || !symbol)
        *why = g_strdup_printf("no %s symbol: not a vitals plugin", VITALS_PLUGIN_ENTRY_SYMBOL);
    else if (!(pi = ((vitals_plugin_entry_fn)symbol)()))
        *why = g_strdup_printf("%s returned NULL", VITALS_PLUGIN_ENTRY_SYMBOL);
    else if (pi->abi_major != VITALS_PLUGIN_ABI_MAJOR ||
             (strict && pi->abi_minor > VITALS_PLUGIN_ABI_MINOR))
        *why = g_strdup_printf("built for plugin ABI %u.%u, this host speaks %u.%u (rebuild it "
                               "against this SDK)", pi->abi_major, pi->abi_minor,
                               VITALS_PLUGIN_ABI_MAJOR, VITALS_PLUGIN_ABI_MINOR);
    else if (pi->struct_size < INFO_SIZE_1_0)
        *why = g_strdup_printf("plugin info is %u bytes, ABI %u.%u needs at least %zu",
                               pi->struct_size, pi->abi_major, pi->abi_minor,
                               (size_t)INFO_SIZE_1_0);
    else if (strict && (!pi->name || strcmp(pi->name, name) != 0))
        *why = g_strdup_printf("plugin calls itself '%s' but its file is %s.so (they must match)",
                               pi->name ? pi->name : "(null)", name);
    else {
        *info = pi;
        return module;
    }
    g_module_close(module);
    return NULL;
}

/* ---- --list-plugins --------------------------------------------------------- */

/* Prints the metrics `plugin` registered, one per line: id, kind, unit. */
static void print_metrics(FILE *out, vitals_desc_set *set, const char *plugin)
{
    int width = 0;
    for (guint i = 0; i < set->count; i++)
        if (strcmp(set->items[i]->plugin, plugin) == 0)
            width = MAX(width, (int)strlen(set->items[i]->id));
    for (guint i = 0; i < set->count; i++) {
        const vitals_metric_info *m = set->items[i];
        if (strcmp(m->plugin, plugin) != 0)
            continue;
        const char *unit = m->desc.unit && *m->desc.unit ? m->desc.unit : "-";
        fprintf(out, "    %-*s  %-9s  %s\n", width, m->id, vitals_kind_name(m->desc.kind), unit);
    }
}

/* Prints one plugin: "NAME.so  VERSION  STATUS", its description, and the
 * metrics of a running one.  Plugins the loader did not open (disabled) or
 * that failed before init are opened with probe_plugin() for their version
 * and description when that is safe; otherwise the version shows as "?". */
static void print_plugin(FILE *out, const vitals_loaded_plugin *lp, vitals_desc_set *set)
{
    const vitals_plugin_info *info = lp->info;
    GModule *probed = NULL;
    if (!info) {
        char *why = NULL;
        probed = probe_plugin(lp->path, lp->name, FALSE, &info, &why);
        g_free(why);
    }
    const char *version = info && info->version ? info->version : "?";
    fprintf(out, "%s.so  %s  ", lp->name, version);
    switch (lp->status) {
    case VITALS_PLUGIN_RUNNING:
        fprintf(out, "running, %u metric%s\n", lp->metrics, lp->metrics == 1 ? "" : "s");
        break;
    case VITALS_PLUGIN_DISABLED:
        fprintf(out, "disabled (enabled = false in [plugin:%s])\n", lp->name);
        break;
    case VITALS_PLUGIN_FAILED:
    default:
        fprintf(out, "failed: %s\n", lp->error ? lp->error : "(no reason given)");
        break;
    }
    if (info && info->description && *info->description)
        fprintf(out, "  %s\n", info->description);
    if (lp->status == VITALS_PLUGIN_RUNNING)
        print_metrics(out, set, lp->name);
    fputc('\n', out);
    if (probed)
        g_module_close(probed);
}

/* See cli_tools.h. */
int vitals_cli_list_plugins(const vitals_config *cfg, FILE *out)
{
    if (!g_file_test(cfg->plugins_dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "vitals: plugins directory %s does not exist (set plugins_dir in [host] "
                        "or pass --plugins-dir)\n", cfg->plugins_dir);
        return 1;
    }
    if (vitals_log_get_level() > VITALS_LOG_WARN)
        vitals_log_set_level(VITALS_LOG_WARN);
    vitals_registry *reg = vitals_registry_new((unsigned)cfg->history);
    vitals_router *router = cfg->ingest_enabled ? vitals_router_new() : NULL;
    vitals_plugins *ps = vitals_plugins_load(cfg->plugins_dir, cfg, reg, router, cfg->interval);
    vitals_desc_set *set = vitals_registry_descriptors(reg);

    fprintf(out, "Plugins in %s:\n\n", cfg->plugins_dir);
    guint counts[3] = {0, 0, 0};
    for (guint i = 0; i < ps->all->len; i++) {
        const vitals_loaded_plugin *lp = ps->all->pdata[i];
        print_plugin(out, lp, set);
        if ((unsigned)lp->status < G_N_ELEMENTS(counts))
            counts[lp->status]++;
    }
    if (ps->all->len == 0)
        fprintf(out, "(no *.so files)\n\n");
    fprintf(out, "%u plugin%s: %u running, %u disabled, %u failed\n", ps->all->len,
            ps->all->len == 1 ? "" : "s", counts[VITALS_PLUGIN_RUNNING],
            counts[VITALS_PLUGIN_DISABLED], counts[VITALS_PLUGIN_FAILED]);
    fflush(out);

    vitals_desc_set_unref(set);
    vitals_plugins_shutdown(ps);
    vitals_router_free(router);
    vitals_registry_free(reg);
    return 0;
}

/* ---- --check-config ----------------------------------------------------------- */

/* "FILE:LINE" of a section header of `cfg` ("FILE" when the line is
 * unknown); newly allocated. */
static char *section_at(const vitals_config *cfg, const char *group)
{
    int line = vitals_config_line(cfg, group, NULL);
    return line > 0 ? g_strdup_printf("%s:%d", cfg->path, line) : g_strdup(cfg->path);
}

/* TRUE when `name` can be a plugin file name: [A-Za-z0-9_.-]+, not "." or
 * "..", so that a section never reaches outside the plugins directory. */
static gboolean plugin_name_ok(const char *name)
{
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && *c != '_' && *c != '-' && *c != '.')
            return FALSE;
    return TRUE;
}

/* Checks [plugin:NAME] of `cfg` against NAME.so in `dir`: its descriptor,
 * its `enabled` value and every key through the plugin's schema, on a
 * scratch state that is then discarded.  Appends each error (newly
 * allocated text) to `errors`. */
static void check_plugin_section(const vitals_config *cfg, const char *name, const char *dir,
                                 GPtrArray *errors)
{
    char *group = g_strconcat(PLUGIN_PREFIX, name, NULL);
    char *at = section_at(cfg, group);
    char *file = g_strconcat(name, ".so", NULL);
    char *path = g_build_filename(dir, file, NULL);
    const vitals_plugin_info *info = NULL;
    char *why = NULL;
    GModule *module = NULL;
    GError *error = NULL;

    if (!plugin_name_ok(name)) {
        g_ptr_array_add(errors, g_strdup_printf("%s: [%s]: '%s' is not a plugin name "
                                                "(letters, digits, '_', '-', '.')", at, group, name));
    } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_ptr_array_add(errors, g_strdup_printf("%s: [%s]: no plugin %s in %s", at, group, file,
                                                dir));
    } else if (!(module = probe_plugin(path, name, TRUE, &info, &why))) {
        g_ptr_array_add(errors, g_strdup_printf("%s: [%s]: %s: %s", at, group, path, why));
    } else {
        vitals_config_plugin_enabled(cfg, name, &error);
        if (error) {
            g_ptr_array_add(errors, g_strdup(error->message));
            g_clear_error(&error);
        }
        void *state = g_malloc0(info->state_size ? info->state_size : 1);
        GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
        if (!vitals_config_fill_plugin(cfg, name, info->config, state, owned, &error)) {
            g_ptr_array_add(errors, g_strdup(error->message));
            g_clear_error(&error);
        }
        g_ptr_array_free(owned, TRUE);
        g_free(state);
        g_module_close(module);
    }
    g_free(why);
    g_free(path);
    g_free(file);
    g_free(at);
    g_free(group);
}

/* See cli_tools.h. */
int vitals_cli_check_config(const char *file, const char *plugins_dir, FILE *out, FILE *err)
{
    vitals_config cfg;
    vitals_cli_config_init(&cfg);
    GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    if (!vitals_config_load(&cfg, file, &error)) {
        g_ptr_array_add(errors, g_strdup(error->message));
        g_error_free(error);
    } else {
        const char *dir = plugins_dir ? plugins_dir : cfg.plugins_dir;
        gboolean have_dir = g_file_test(dir, G_FILE_TEST_IS_DIR);
        char **groups = g_key_file_get_groups(cfg.keyfile, NULL);
        for (char **g = groups; *g; g++) {
            if (!g_str_has_prefix(*g, PLUGIN_PREFIX) || !(*g)[strlen(PLUGIN_PREFIX)])
                continue;
            if (!have_dir) {
                g_ptr_array_add(errors, g_strdup_printf(
                    "plugins directory %s does not exist, so [plugin:NAME] sections cannot be "
                    "checked (set plugins_dir in [host] or pass --plugins-dir)", dir));
                break;
            }
            check_plugin_section(&cfg, *g + strlen(PLUGIN_PREFIX), dir, errors);
        }
        g_strfreev(groups);
    }

    int status = 0;
    if (errors->len == 0) {
        fprintf(out, "%s: ok\n", file);
        fflush(out);
    } else {
        for (guint i = 0; i < errors->len; i++)
            fprintf(err, "%s\n", (const char *)errors->pdata[i]);
        fprintf(err, "%s: %u error%s\n", file, errors->len, errors->len == 1 ? "" : "s");
        fflush(err);
        status = 1;
    }
    g_ptr_array_free(errors, TRUE);
    vitals_config_clear(&cfg);
    return status;
}
