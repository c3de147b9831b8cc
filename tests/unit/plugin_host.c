/*
 * plugin_host.c — the loader test harness; see plugin_host.h.
 */
#include "plugin_host.h"

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "statsd.h"

static char *tmp_dir;
static char *ini_path;
static char *plugin_name, *plugin_dir, *plugin_copy; /* plugin_host_make_plugin_dir() */

void plugin_host_make_dir(const char *name)
{
    char *pattern = g_strdup_printf("vitals-test-%s-XXXXXX", name);
    tmp_dir = g_build_filename(g_get_tmp_dir(), pattern, NULL);
    g_free(pattern);
    ck_assert_ptr_nonnull(g_mkdtemp(tmp_dir));
    ini_path = g_build_filename(tmp_dir, "vitals.ini", NULL);
}

/* Removes *file (if made) and then *dir, and frees and forgets both. */
static void remove_file_and_dir(char **file, char **dir)
{
    g_remove(*file);
    g_rmdir(*dir);
    g_free(*file);
    g_free(*dir);
    *file = NULL;
    *dir = NULL;
}

void plugin_host_remove_dir(void)
{
    remove_file_and_dir(&ini_path, &tmp_dir);
}

void plugin_host_load(plugin_host *h, const char *dir, const char *ini_text)
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
    h->router = vitals_router_new();
    h->plugins = vitals_plugins_load(dir, &h->cfg, h->reg, h->router, 1.0);
    ck_assert_ptr_nonnull(h->plugins);
}

void plugin_host_free(plugin_host *h)
{
    if (h->frame)
        vitals_frame_unref(h->frame);
    vitals_plugins_shutdown(h->plugins);
    vitals_router_free(h->router);
    vitals_registry_free(h->reg);
    vitals_config_clear(&h->cfg);
}

void plugin_host_tick(plugin_host *h)
{
    vitals_plugins_collect(h->plugins);
    if (h->frame)
        vitals_frame_unref(h->frame);
    h->frame = vitals_registry_snapshot(h->reg, (double)g_get_real_time() / G_USEC_PER_SEC);
}

static void deliver(void *user, const vitals_record *record)
{
    plugin_host *h = user;
    vitals_router_dispatch(h->router, record);
}

size_t plugin_host_send(plugin_host *h, const char *lines)
{
    char *copy = g_strdup(lines); /* the parser works in place */
    statsd_result result = statsd_parse(copy, strlen(copy), deliver, NULL, h);
    g_free(copy);
    return result.records;
}

const vitals_value *plugin_host_value(const plugin_host *h, const char *id)
{
    int index = vitals_registry_find(h->reg, id);
    ck_assert_msg(index >= 0, "metric %s is not registered", id);
    ck_assert_ptr_nonnull(h->frame);
    ck_assert_uint_lt((guint)index, h->frame->descs->count);
    return &h->frame->values[index];
}

double plugin_host_number(const plugin_host *h, const char *id)
{
    const vitals_value *v = plugin_host_value(h, id);
    ck_assert_msg(v->type == VITALS_VALUE_NUMBER, "%s has no number", id);
    return v->number;
}

const char *plugin_host_text(const plugin_host *h, const char *id)
{
    const vitals_value *v = plugin_host_value(h, id);
    ck_assert_msg(v->type == VITALS_VALUE_TEXT, "%s has no text", id);
    return v->text;
}

vitals_hist_summary plugin_host_summary(const plugin_host *h, const char *id)
{
    const vitals_value *v = plugin_host_value(h, id);
    ck_assert_msg(v->type == VITALS_VALUE_SUMMARY, "%s has no summary", id);
    return v->summary;
}

bool plugin_host_is_gap(const plugin_host *h, const char *id)
{
    return plugin_host_value(h, id)->type == VITALS_VALUE_NONE;
}

const vitals_metric_desc *plugin_host_desc(const plugin_host *h, const char *id)
{
    int index = vitals_registry_find(h->reg, id);
    ck_assert_msg(index >= 0, "metric %s is not registered", id);
    vitals_desc_set *set = vitals_registry_descriptors(h->reg);
    const vitals_metric_desc *desc = &set->items[index]->desc;
    vitals_desc_set_unref(set);
    return desc;
}

void plugin_host_send_lines(plugin_host *h, const char *lines, size_t records)
{
    ck_assert_uint_eq(plugin_host_send(h, lines), records);
}

void plugin_host_wait_for_start_of_second(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_nsec > 500000000L)
        g_usleep((gulong)((1000000000L - now.tv_nsec) / 1000 + 1000));
}

void plugin_host_make_plugin_dir(const char *name)
{
    plugin_host_make_dir(name);
    plugin_name = g_strdup(name);
    char *pattern = g_strdup_printf("vitals-test-%s-so-XXXXXX", name);
    plugin_dir = g_build_filename(g_get_tmp_dir(), pattern, NULL);
    g_free(pattern);
    ck_assert_ptr_nonnull(g_mkdtemp(plugin_dir));
    char *file = g_strdup_printf("%s.so", name);
    char *built = g_build_filename(VITALS_BUILD_PLUGINS_DIR, file, NULL);
    char *bytes = NULL;
    gsize len = 0;
    ck_assert_msg(g_file_get_contents(built, &bytes, &len, NULL), "no %s", built);
    plugin_copy = g_build_filename(plugin_dir, file, NULL);
    ck_assert(g_file_set_contents(plugin_copy, bytes, (gssize)len, NULL));
    g_free(bytes);
    g_free(built);
    g_free(file);
}

void plugin_host_remove_plugin_dir(void)
{
    remove_file_and_dir(&plugin_copy, &plugin_dir);
    g_free(plugin_name);
    plugin_name = NULL;
    plugin_host_remove_dir();
}

const char *plugin_host_plugin_dir(void)
{
    return plugin_dir;
}

void plugin_host_load_plugin(plugin_host *h, const char *ini_text)
{
    plugin_host_load(h, plugin_dir, ini_text);
    const vitals_loaded_plugin *lp = vitals_plugins_find(h->plugins, plugin_name);
    ck_assert_msg(lp != NULL, "no %s.so in %s", plugin_name, plugin_dir);
    ck_assert_msg(lp->status == VITALS_PLUGIN_RUNNING, "%s: %s", plugin_name, lp->error);
}
