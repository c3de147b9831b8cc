/*
 * plugin_host.c — the loader test harness; see plugin_host.h.
 */
#include "plugin_host.h"

#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "statsd.h"

static char *tmp_dir;
static char *ini_path;

void plugin_host_make_dir(const char *name)
{
    char *pattern = g_strdup_printf("vitals-test-%s-XXXXXX", name);
    tmp_dir = g_build_filename(g_get_tmp_dir(), pattern, NULL);
    g_free(pattern);
    ck_assert_ptr_nonnull(g_mkdtemp(tmp_dir));
    ini_path = g_build_filename(tmp_dir, "vitals.ini", NULL);
}

void plugin_host_remove_dir(void)
{
    g_remove(ini_path);
    g_rmdir(tmp_dir);
    g_free(ini_path);
    g_free(tmp_dir);
    ini_path = NULL;
    tmp_dir = NULL;
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
