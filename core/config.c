/*
 * config.c — vitals.ini: the [host] section and the plugins' sections.
 *
 * GKeyFile parses the file, but it forgets where each key came from, and a
 * message without a line number sends the user hunting.  So this module
 * also scans the text itself and keeps a map "group\x1fkey" / "group" ->
 * line, read the same way GKeyFile reads it: leading whitespace skipped,
 * `#` and `;` comments, `[group]` headers (trailing blanks allowed),
 * `key = value` with the key trimmed.  (GKeyFile knows only `#` comments, so
 * a `;` line is handed to it as `#`.)  Every error names the file, the line,
 * the key and what would have been valid.
 *
 * [host] is checked here; [plugin:NAME] is checked against the plugin's own
 * schema when the loader calls vitals_config_fill_plugin().  Any other
 * section draws a warning, not an error, so an older host still reads a
 * newer file.  A failed load leaves the configuration as it was.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "config_private.h"
#include "log.h"

#ifndef VITALS_DEFAULT_PLUGINS_DIR
#error "the build must define VITALS_DEFAULT_PLUGINS_DIR"
#endif

#define KEY_SEP '\x1f'

G_DEFINE_QUARK(vitals-config-error-quark, vitals_config_error)

/* The sections besides [plugin:NAME] that some part of the host reads; a
 * module that starts reading a new section adds one line here. */
static const char *const known_sections[] = {
    "host",
    "ingest",
    "probe",
    NULL,
};

/* ---- [host] keys --------------------------------------------------------- */

typedef enum { HOST_STRING, HOST_PATH_OR_NONE, HOST_INT, HOST_DOUBLE, HOST_LEVEL, HOST_BOOL } host_kind;

/* A key of a section the host itself reads ([host], [ingest]). */
typedef struct host_key {
    const char *group;
    const char *key;
    host_kind kind;
    double min, max;    /* HOST_INT, HOST_DOUBLE */
    size_t offset;      /* into vitals_config    */
    const char *expect; /* "'v' is not <expect>" */
} host_key;

static const host_key host_keys[] = {
    { "host", "listen", HOST_STRING, 0, 0, offsetof(vitals_config, listen),
      "an address (such as 127.0.0.1 or 0.0.0.0)" },
    { "host", "port", HOST_INT, 0, 65535, offsetof(vitals_config, port), "an integer 0..65535" },
    { "host", "interval", HOST_DOUBLE, 0.05, 3600, offsetof(vitals_config, interval),
      "a number of seconds 0.05..3600" },
    { "host", "history", HOST_INT, 2, 100000, offsetof(vitals_config, history),
      "an integer 2..100000" },
    { "host", "plugins_dir", HOST_STRING, 0, 0, offsetof(vitals_config, plugins_dir), "a directory" },
    { "host", "web_root", HOST_PATH_OR_NONE, 0, 0, offsetof(vitals_config, web_root),
      "a directory" },
    { "host", "log_level", HOST_LEVEL, 0, 0, offsetof(vitals_config, log_level),
      "one of error, warn, info, debug" },
    { "host", "ping_interval", HOST_DOUBLE, 0.1, 3600, offsetof(vitals_config, ping_interval),
      "a number of seconds 0.1..3600" },
    { "host", "ws_max_message", HOST_INT, 125, 16777216, offsetof(vitals_config, ws_max_message),
      "a number of bytes 125..16777216" },
    { "host", "max_clients", HOST_INT, 1, 1000000, offsetof(vitals_config, max_clients),
      "an integer 1..1000000" },
    { "host", "send_timeout", HOST_DOUBLE, 0.1, 3600, offsetof(vitals_config, send_timeout),
      "a number of seconds 0.1..3600" },
    { "host", "http_timeout", HOST_INT, 1, 3600, offsetof(vitals_config, http_timeout),
      "a number of seconds 1..3600" },
    { "host", "auth_token", HOST_STRING, 0, 0, offsetof(vitals_config, auth_token),
      "a token (any text but empty)" },
    { "host", "allow_anonymous", HOST_BOOL, 0, 0, offsetof(vitals_config, allow_anonymous),
      "a boolean (true or false)" },
    { "host", "allowed_origins", HOST_PATH_OR_NONE, 0, 0, offsetof(vitals_config, allowed_origins),
      "a comma-separated list of origins" },
    { "host", "tls_cert", HOST_PATH_OR_NONE, 0, 0, offsetof(vitals_config, tls_cert),
      "a PEM certificate file" },
    { "host", "tls_key", HOST_PATH_OR_NONE, 0, 0, offsetof(vitals_config, tls_key),
      "a PEM private key file" },
    { "probe", "enabled", HOST_BOOL, 0, 0, offsetof(vitals_config, probe), "a boolean (true or false)" },
    { "probe", "timeout", HOST_DOUBLE, 0.1, 600, offsetof(vitals_config, probe_timeout),
      "a number of seconds 0.1..600" },
    { "probe", "cache", HOST_PATH_OR_NONE, 0, 0, offsetof(vitals_config, probe_cache),
      "a file path" },
    { "ingest", "enabled", HOST_BOOL, 0, 0, offsetof(vitals_config, ingest_enabled),
      "a boolean (true or false)" },
    { "ingest", "listen", HOST_STRING, 0, 0, offsetof(vitals_config, ingest_listen),
      "an address (such as 127.0.0.1)" },
    { "ingest", "port", HOST_INT, 0, 65535, offsetof(vitals_config, ingest_port),
      "an integer 0..65535" },
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* The string fields are exactly the string keys of the table: copying and
 * freeing them walks the table, so a new string key cannot be forgotten. */
static gboolean is_string_key(const host_key *hk)
{
    return hk->kind == HOST_STRING || hk->kind == HOST_PATH_OR_NONE;
}

static char **string_field(vitals_config *cfg, const host_key *hk)
{
    return (char **)((char *)cfg + hk->offset);
}

/* ---- the line map --------------------------------------------------------- */

/* The map key of `key` in `group` (newly allocated), or of the group's
 * header when `key` is NULL. */
static char *line_key(const char *group, const char *key)
{
    if (!key)
        return g_strdup(group);
    return g_strdup_printf("%s%c%s", group, KEY_SEP, key);
}

/*
 * Scans `text` (NUL-terminated) line by line, recording in `lines` the line
 * of each group header (the first one, as GKeyFile merges repeated groups)
 * and of each key (the last one, whose value GKeyFile keeps).  Rewrites `;`
 * comment lines to `#` in place so that GKeyFile accepts them.  Returns the
 * first line GKeyFile will refuse (not a comment, group or `key = value`,
 * or a key before any group), or 0 when every line looks right.
 */
static int scan_lines(char *text, GHashTable *lines)
{
    int bad = 0, number = 0;
    char *group = NULL;
    for (char *p = text; *p; ) {
        char *end = strchr(p, '\n');
        char *next = end ? end + 1 : p + strlen(p);
        if (!end)
            end = next;
        number++;
        while (end > p && end[-1] == '\r')
            end--;
        while (p < end && g_ascii_isspace(*p))
            p++;

        gboolean ok = TRUE;
        if (p == end || *p == '#' || *p == ';') {
            if (p < end)
                *p = '#';
        } else if (*p == '[') { /* GKeyFile: up to the first ']', then blanks */
            char *close = memchr(p, ']', (size_t)(end - p));
            char *q = close ? close + 1 : end;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            ok = close && q == end && close > p + 1 && !memchr(p + 1, '[', (size_t)(close - p));
            if (ok) {
                g_free(group);
                group = g_strndup(p + 1, (size_t)(close - p - 1));
                if (!g_hash_table_contains(lines, group))
                    g_hash_table_insert(lines, g_strdup(group), GINT_TO_POINTER(number));
            }
        } else {
            char *eq = memchr(p, '=', (size_t)(end - p));
            char *key_end = eq;
            while (key_end && key_end > p && g_ascii_isspace(key_end[-1]))
                key_end--;
            ok = eq && key_end > p && group;
            if (ok) {
                char *key = g_strndup(p, (size_t)(key_end - p));
                g_hash_table_replace(lines, line_key(group, key), GINT_TO_POINTER(number));
                g_free(key);
            }
        }
        if (!ok && !bad)
            bad = number;
        p = next;
    }
    g_free(group);
    return bad;
}

/* See config.h. */
int vitals_config_line(const vitals_config *cfg, const char *group, const char *key)
{
    if (!cfg || !cfg->lines || !group)
        return 0;
    char *k = line_key(group, key);
    int line = GPOINTER_TO_INT(g_hash_table_lookup(cfg->lines, k));
    g_free(k);
    return line;
}

/* "path:line" for a key (or a group header when key is NULL), "path" when the
 * line is unknown; newly allocated. */
char *config_where(const vitals_config *cfg, const char *group, const char *key)
{
    const char *path = cfg->path ? cfg->path : "(no config file)";
    int line = vitals_config_line(cfg, group, key);
    return line > 0 ? g_strdup_printf("%s:%d", path, line) : g_strdup(path);
}

/*
 * Finds the key of `group` (as written in the file, so including any
 * `key[locale]` GKeyFile hides) that comes first in the file among those
 * `valid` (a NULL-terminated list) does not name.  Returns it newly
 * allocated, or NULL when every key is valid.
 */
char *config_first_unknown_key(const vitals_config *cfg, const char *group,
                               const char *const *valid)
{
    size_t len = strlen(group);
    char *found = NULL;
    int found_line = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, cfg->lines);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *name = k;
        if (strncmp(name, group, len) != 0 || name[len] != KEY_SEP)
            continue;
        name += len + 1;
        if (g_strv_contains(valid, name))
            continue;
        if (!found || GPOINTER_TO_INT(v) < found_line) {
            g_free(found);
            found = g_strdup(name);
            found_line = GPOINTER_TO_INT(v);
        }
    }
    return found;
}

/* Sets a VITALS_CONFIG_ERROR_KEY error for `key`, listing `valid`. */
void config_unknown_key_error(const vitals_config *cfg, const char *group, const char *key,
                              const char *const *valid, GError **error)
{
    char *at = config_where(cfg, group, key);
    char *list = g_strjoinv(", ", (char **)valid);
    g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_KEY,
                "%s: unknown key '%s' in [%s]; valid keys: %s", at, key, group, list);
    g_free(list);
    g_free(at);
}

/* Sets a VITALS_CONFIG_ERROR_VALUE error: "<at>: key 'k' in [g]: 'v' is not X". */
void config_value_error(const vitals_config *cfg, const char *group, const char *key,
                        const char *value, const char *why, GError **error)
{
    char *at = config_where(cfg, group, key);
    g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                "%s: key '%s' in [%s]: '%s' is %s", at, key, group, value, why);
    g_free(at);
}

/*
 * The value of `key` in `group`, unescaped by GKeyFile and with trailing
 * whitespace removed (GKeyFile keeps it; write `\s` for a meaningful blank).
 * Returns it newly allocated, or NULL with `error` set (a bad escape or a
 * value that is not UTF-8).  The key must exist.
 */
char *config_get_value(const vitals_config *cfg, const char *group, const char *key,
                       GError **error)
{
    GError *e = NULL;
    char *value = g_key_file_get_string(cfg->keyfile, group, key, &e);
    if (e) {
        char *at = config_where(cfg, group, key);
        g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                    "%s: key '%s' in [%s]: %s", at, key, group, e->message);
        g_free(at);
        g_error_free(e);
        g_free(value);
        return NULL;
    }
    return g_strchomp(value);
}

/* Parses one [host] value into `cfg`.  Returns FALSE with `error` set when
 * it is not what `hk` expects. */
static gboolean apply_host_key(vitals_config *cfg, const host_key *hk, const char *value,
                               GError **error)
{
    void *field = (char *)cfg + hk->offset;
    gboolean ok = TRUE;
    switch (hk->kind) {
    case HOST_STRING:
    case HOST_PATH_OR_NONE:
        if (*value || hk->kind == HOST_PATH_OR_NONE) {
            g_free(*(char **)field);
            *(char **)field = *value ? g_strdup(value) : NULL; /* empty: none */
        } else {
            ok = FALSE;
        }
        break;
    case HOST_INT: {
        int64_t v;
        ok = vitals_config_parse_value(VITALS_CFG_INT, value, &v, NULL, NULL) &&
             v >= (int64_t)hk->min && v <= (int64_t)hk->max;
        if (ok)
            *(int *)field = (int)v;
        break;
    }
    case HOST_DOUBLE: {
        double v;
        ok = vitals_config_parse_value(VITALS_CFG_DOUBLE, value, &v, NULL, NULL) &&
             v >= hk->min && v <= hk->max;
        if (ok)
            *(double *)field = v;
        break;
    }
    case HOST_BOOL: {
        bool v;
        ok = vitals_config_parse_value(VITALS_CFG_BOOL, value, &v, NULL, NULL);
        if (ok)
            *(gboolean *)field = v;
        break;
    }
    case HOST_LEVEL:
        ok = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++) {
            if (g_ascii_strcasecmp(value, level_names[i]) == 0) {
                *(vitals_log_level *)field = (vitals_log_level)i;
                ok = TRUE;
            }
        }
        break;
    }
    if (!ok) {
        char *why = g_strdup_printf("not %s", hk->expect);
        config_value_error(cfg, hk->group, hk->key, value, why, error);
        g_free(why);
    }
    return ok;
}

/* Checks the keys of one host section and stores their values in `cfg`.
 * Returns FALSE with `error` set at the first unknown key or bad value. */
static gboolean apply_section(vitals_config *cfg, const char *group, GError **error)
{
    const char *valid[G_N_ELEMENTS(host_keys) + 1];
    size_t n = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(host_keys); i++)
        if (strcmp(host_keys[i].group, group) == 0)
            valid[n++] = host_keys[i].key;
    valid[n] = NULL;

    char *unknown = config_first_unknown_key(cfg, group, valid);
    if (unknown) {
        config_unknown_key_error(cfg, group, unknown, valid, error);
        g_free(unknown);
        return FALSE;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(host_keys); i++) {
        const host_key *hk = &host_keys[i];
        if (strcmp(hk->group, group) != 0 || !g_key_file_has_key(cfg->keyfile, group, hk->key, NULL))
            continue;
        char *value = config_get_value(cfg, group, hk->key, error);
        gboolean ok = value && apply_host_key(cfg, hk, value, error);
        g_free(value);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* Applies every section the host reads itself. */
static gboolean apply_host(vitals_config *cfg, GError **error)
{
    for (const char *const *group = known_sections; *group; group++)
        if (!apply_section(cfg, *group, error))
            return FALSE;
    return TRUE;
}

/* Logs a warning for each group that no part of the host reads. */
static void warn_unknown_groups(const vitals_config *cfg)
{
    char **groups = g_key_file_get_groups(cfg->keyfile, NULL);
    for (char **g = groups; *g; g++) {
        if (g_strv_contains(known_sections, *g) ||
            (g_str_has_prefix(*g, PLUGIN_PREFIX) && (*g)[strlen(PLUGIN_PREFIX)]))
            continue;
        GString *known = g_string_new(NULL);
        for (const char *const *k = known_sections; *k; k++)
            g_string_append_printf(known, "[%s], ", *k);
        g_string_append(known, "[" PLUGIN_PREFIX "NAME]");
        char *at = config_where(cfg, *g, NULL);
        vitals_log(VITALS_LOG_WARN, "config", "%s: unknown section [%s] ignored; known: %s",
                   at, *g, known->str);
        g_free(at);
        g_string_free(known, TRUE);
    }
    g_strfreev(groups);
}

/* ---- the file ------------------------------------------------------------- */

/* See config.h. */
void vitals_config_init(vitals_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = g_strdup(VITALS_DEFAULT_LISTEN);
    cfg->port = VITALS_DEFAULT_PORT;
    cfg->interval = VITALS_DEFAULT_INTERVAL;
    cfg->history = VITALS_DEFAULT_HISTORY;
    cfg->plugins_dir = g_strdup(VITALS_DEFAULT_PLUGINS_DIR);
    cfg->web_root = NULL;
    cfg->log_level = VITALS_LOG_INFO;
    cfg->ping_interval = VITALS_DEFAULT_PING_INTERVAL;
    cfg->ws_max_message = VITALS_DEFAULT_WS_MAX_MESSAGE;
    cfg->max_clients = VITALS_DEFAULT_MAX_CLIENTS;
    cfg->send_timeout = VITALS_DEFAULT_SEND_TIMEOUT;
    cfg->http_timeout = VITALS_DEFAULT_HTTP_TIMEOUT;
    cfg->probe = TRUE;
    cfg->probe_timeout = VITALS_DEFAULT_PROBE_TIMEOUT;
    cfg->ingest_enabled = TRUE;
    cfg->ingest_listen = g_strdup(VITALS_DEFAULT_LISTEN);
    cfg->ingest_port = VITALS_DEFAULT_INGEST_PORT;
    cfg->keyfile = g_key_file_new();
    cfg->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/* See config.h.  Frees every field and zeroes the struct, so clearing twice
 * is harmless and vitals_config_init() may follow. */
void vitals_config_clear(vitals_config *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->path);
    for (size_t i = 0; i < G_N_ELEMENTS(host_keys); i++)
        if (is_string_key(&host_keys[i]))
            g_free(*string_field(cfg, &host_keys[i]));
    if (cfg->keyfile)
        g_key_file_free(cfg->keyfile);
    if (cfg->lines)
        g_hash_table_destroy(cfg->lines);
    memset(cfg, 0, sizeof *cfg);
}

/* Parses `text` (the file's `len` bytes, modified in place) into the empty
 * keyfile and line map of `cfg`.  Returns FALSE with a SYNTAX error that
 * names the file, and the line when the scan found it. */
static gboolean parse_text(vitals_config *cfg, char *text, gsize len, GError **error)
{
    if (strlen(text) != len) {
        g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_SYNTAX,
                    "%s: contains a NUL byte; not an INI file", cfg->path);
        return FALSE;
    }
    if (g_str_has_prefix(text, "\xEF\xBB\xBF")) /* a UTF-8 byte order mark */
        memset(text, ' ', 3);
    int bad = scan_lines(text, cfg->lines);
    GError *e = NULL;
    if (!g_key_file_load_from_data(cfg->keyfile, text, len, G_KEY_FILE_NONE, &e)) {
        if (bad)
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_SYNTAX, "%s:%d: %s",
                        cfg->path, bad, e->message);
        else
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_SYNTAX, "%s: %s",
                        cfg->path, e->message);
        g_error_free(e);
        return FALSE;
    }
    return TRUE;
}

/* See config.h.  `cfg` must have been initialised; values the file does not
 * set keep their current values.  On error `cfg` is left unchanged.  A
 * missing or unreadable file is VITALS_CONFIG_ERROR_READ, a file GKeyFile
 * refuses VITALS_CONFIG_ERROR_SYNTAX, then KEY or VALUE for [host]. */
gboolean vitals_config_load(vitals_config *cfg, const char *path, GError **error)
{
    g_return_val_if_fail(cfg != NULL && path != NULL, FALSE);
    char *text = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_READ,
                    "cannot read the config file: %s", e->message);
        g_error_free(e);
        return FALSE;
    }

    /* Work on a copy so that a failure leaves `cfg` as it was. */
    vitals_config next = *cfg;
    next.path = g_strdup(path);
    for (size_t i = 0; i < G_N_ELEMENTS(host_keys); i++)
        if (is_string_key(&host_keys[i]))
            *string_field(&next, &host_keys[i]) = g_strdup(*string_field(cfg, &host_keys[i]));
    next.keyfile = g_key_file_new();
    next.lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    gboolean ok = parse_text(&next, text, len, error) && apply_host(&next, error);
    g_free(text);
    if (!ok) {
        vitals_config_clear(&next);
        return FALSE;
    }
    warn_unknown_groups(&next);
    vitals_config_clear(cfg);
    *cfg = next;
    return TRUE;
}
