/*
 * config_plugin.c — a plugin's [plugin:NAME] section, checked against the
 * schema the plugin declares, and the value parser both files share.
 *
 * The file and its line map are read by config.c; this part knows what a
 * schema entry is and how a value becomes a bool, an integer, a double or a
 * string in the plugin's own state.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "config_private.h"

/* ---- values ----------------------------------------------------------------- */

/* See config.h.  `dest` may be NULL to only check `text`; otherwise a
 * STRING is g_strdup'ed, stored and appended to `owned` (which must then be
 * non-NULL and free its elements with g_free).  On failure `*why` (when
 * `why` is non-NULL) is a static phrase that follows "is": "not an
 * integer", "not a number", "not a boolean (true/false)" …, and `dest` is
 * untouched. */
gboolean vitals_config_parse_value(vitals_config_type type, const char *text, void *dest,
                                   GPtrArray *owned, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!text) {
        *why = "missing";
        return FALSE;
    }
    char *end = NULL;
    switch (type) {
    case VITALS_CFG_BOOL: {
        static const char *const yes[] = { "true", "yes", "1" };
        static const char *const no[] = { "false", "no", "0" };
        for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
            gboolean t = g_ascii_strcasecmp(text, yes[i]) == 0;
            if (t || g_ascii_strcasecmp(text, no[i]) == 0) {
                if (dest)
                    *(bool *)dest = t;
                return TRUE;
            }
        }
        *why = "not a boolean (true/false)";
        return FALSE;
    }
    case VITALS_CFG_INT: {
        if (!*text || g_ascii_isspace(*text)) {
            *why = "not an integer";
            return FALSE;
        }
        errno = 0;
        gint64 v = g_ascii_strtoll(text, &end, 10);
        if (*end) {
            *why = "not an integer";
            return FALSE;
        }
        if (errno == ERANGE) {
            *why = "not an integer in the 64-bit range";
            return FALSE;
        }
        if (dest)
            *(int64_t *)dest = v;
        return TRUE;
    }
    case VITALS_CFG_DOUBLE: {
        if (!*text || g_ascii_isspace(*text)) {
            *why = "not a number";
            return FALSE;
        }
        double v = g_ascii_strtod(text, &end);
        if (*end) {
            *why = "not a number";
            return FALSE;
        }
        if (!isfinite(v)) {
            *why = "not a finite number";
            return FALSE;
        }
        if (dest)
            *(double *)dest = v;
        return TRUE;
    }
    case VITALS_CFG_STRING:
        if (dest) {
            g_return_val_if_fail(owned != NULL, FALSE);
            char *copy = g_strdup(text);
            g_ptr_array_add(owned, copy);
            *(const char **)dest = copy;
        }
        return TRUE;
    case VITALS_CFG_END:
    default:
        *why = "of an unknown schema type";
        return FALSE;
    }
}

/* ---- plugins ---------------------------------------------------------------- */

/* See config.h.  `enabled` turns a plugin off, `isolate` runs it in a
 * helper process, `deadline` bounds its collect() (loader.c, supervisor.c). */
const char *const vitals_config_plugin_host_keys[] = { "enabled", "isolate", "deadline", NULL };

static gboolean is_host_key(const char *key)
{
    for (const char *const *k = vitals_config_plugin_host_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return TRUE;
    return FALSE;
}

/* See config.h.  A deadline must be a positive number of seconds. */
gboolean vitals_config_plugin_host_value(const vitals_config *cfg, const char *plugin,
                                         const char *key, vitals_config_type type, void *dest,
                                         GError **error)
{
    g_return_val_if_fail(cfg != NULL && plugin != NULL && type != VITALS_CFG_STRING, FALSE);
    char *group = g_strconcat(PLUGIN_PREFIX, plugin, NULL);
    gboolean ok = TRUE;
    if (g_key_file_has_key(cfg->keyfile, group, key, NULL)) {
        char *value = config_get_value(cfg, group, key, error);
        const char *why = NULL;
        double d = 0;
        ok = value != NULL;
        if (ok && type == VITALS_CFG_DOUBLE) {
            ok = vitals_config_parse_value(type, value, &d, NULL, &why);
            if (ok && !(d > 0 && d <= 3600)) {
                why = "not a number of seconds in (0, 3600]";
                ok = FALSE;
            }
            if (ok)
                *(double *)dest = d;
        } else if (ok) {
            ok = vitals_config_parse_value(type, value, dest, NULL, &why);
        }
        if (value && !ok)
            config_value_error(cfg, group, key, value, why, error);
        g_free(value);
    }
    g_free(group);
    return ok;
}

/* See config.h.  Returns FALSE with `error` set when `enabled` is not a
 * boolean; so FALSE alone means disabled only when no error was set. */
gboolean vitals_config_plugin_enabled(const vitals_config *cfg, const char *plugin,
                                      GError **error)
{
    g_return_val_if_fail(cfg != NULL && plugin != NULL, FALSE);
    char *group = g_strconcat(PLUGIN_PREFIX, plugin, NULL);
    gboolean enabled = TRUE;
    if (g_key_file_has_key(cfg->keyfile, group, "enabled", NULL)) {
        char *value = config_get_value(cfg, group, "enabled", error);
        bool b = false;
        const char *why = NULL;
        if (!value) {
            enabled = FALSE;
        } else if (vitals_config_parse_value(VITALS_CFG_BOOL, value, &b, NULL, &why)) {
            enabled = b;
        } else {
            config_value_error(cfg, group, "enabled", value, why, error);
            enabled = FALSE;
        }
        g_free(value);
    }
    g_free(group);
    return enabled;
}

/* See config.h.  Entries end at type VITALS_CFG_END or key NULL; a NULL
 * default_value leaves the field as it was (zero in fresh state).  Errors:
 * KEY for a key outside the schema; VALUE for a bad value in the file, or
 * for a schema that is itself wrong (a bad default, an unknown type, a
 * key the host reserves: enabled, isolate, deadline), blamed on the plugin.  On error the state is
 * partly filled and must be discarded; strings already stored are in
 * `owned`. */
gboolean vitals_config_fill_plugin(const vitals_config *cfg, const char *plugin,
                                   const vitals_config_entry *schema, void *state,
                                   GPtrArray *owned, GError **error)
{
    g_return_val_if_fail(cfg != NULL && plugin != NULL && owned != NULL, FALSE);
    char *group = g_strconcat(PLUGIN_PREFIX, plugin, NULL);
    GPtrArray *valid = g_ptr_array_new();
    for (const char *const *k = vitals_config_plugin_host_keys; *k; k++)
        g_ptr_array_add(valid, (gpointer)*k);
    for (const vitals_config_entry *e = schema; e && e->key && e->type != VITALS_CFG_END; e++)
        g_ptr_array_add(valid, (gpointer)e->key);
    g_ptr_array_add(valid, NULL);
    const char *const *valid_keys = (const char *const *)valid->pdata;

    gboolean ok = TRUE;
    char *unknown = config_first_unknown_key(cfg, group, valid_keys);
    if (unknown) {
        config_unknown_key_error(cfg, group, unknown, valid_keys, error);
        g_free(unknown);
        ok = FALSE;
    }
    /* The host's own keys are checked here too, so --check-config sees them. */
    bool isolate = false;
    double deadline = 1;
    ok = ok && vitals_config_plugin_host_value(cfg, plugin, "isolate", VITALS_CFG_BOOL, &isolate, error) &&
         vitals_config_plugin_host_value(cfg, plugin, "deadline", VITALS_CFG_DOUBLE, &deadline, error);
    for (const vitals_config_entry *e = schema; ok && e && e->key && e->type != VITALS_CFG_END;
         e++) {
        void *dest = (char *)state + e->offset;
        const char *why = NULL;
        if (is_host_key(e->key)) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "plugin '%s' schema: key '%s' is reserved for the host", plugin, e->key);
            ok = FALSE;
        } else if (e->type > VITALS_CFG_STRING) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "plugin '%s' schema: key '%s' has unknown type %d", plugin, e->key,
                        (int)e->type);
            ok = FALSE;
        } else if (g_key_file_has_key(cfg->keyfile, group, e->key, NULL)) {
            char *value = config_get_value(cfg, group, e->key, error);
            ok = value != NULL;
            if (ok && !vitals_config_parse_value(e->type, value, dest, owned, &why)) {
                config_value_error(cfg, group, e->key, value, why, error);
                ok = FALSE;
            }
            g_free(value);
        } else if (e->default_value &&
                   !vitals_config_parse_value(e->type, e->default_value, dest, owned, &why)) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "plugin '%s' schema: default '%s' for key '%s' is %s", plugin,
                        e->default_value, e->key, why);
            ok = FALSE;
        }
    }
    g_ptr_array_free(valid, TRUE);
    g_free(group);
    return ok;
}
