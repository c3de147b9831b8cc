/*
 * config.h — vitals.ini through GKeyFile, with the line numbers GKeyFile
 * does not keep.
 *
 * The file has a [host] section and one [plugin:NAME] section per plugin.
 * Every error names the file, the line and the key, and says what is valid.
 * The command line overrides the file (see vitals_config_apply_* in main).
 */
#ifndef VITALS_CONFIG_H
#define VITALS_CONFIG_H

#include <glib.h>
#include <vitals/plugin.h>

#define VITALS_CONFIG_ERROR (vitals_config_error_quark())
GQuark vitals_config_error_quark(void);

typedef enum {
    VITALS_CONFIG_ERROR_READ,    /* file missing or unreadable           */
    VITALS_CONFIG_ERROR_SYNTAX,  /* not an INI file                      */
    VITALS_CONFIG_ERROR_KEY,     /* unknown key where keys are checked   */
    VITALS_CONFIG_ERROR_VALUE    /* a value of the wrong type or range   */
} vitals_config_error;

/* Defaults; the README and conf/vitals.ini say the same. */
#define VITALS_DEFAULT_LISTEN "127.0.0.1"
#define VITALS_DEFAULT_PORT 8765
#define VITALS_DEFAULT_INTERVAL 1.0
#define VITALS_DEFAULT_HISTORY 300
#define VITALS_DEFAULT_PING_INTERVAL 30.0
#define VITALS_DEFAULT_INGEST_PORT 8125

typedef struct vitals_config {
    char *path;          /* the file read, or NULL when none was       */

    /* [host] */
    char *listen;        /* address to bind, default 127.0.0.1          */
    int port;            /* 0 = ephemeral (the bound port is logged)    */
    double interval;     /* seconds between ticks, 0.05 .. 3600         */
    int history;         /* samples kept per metric, 2 .. 100000        */
    char *plugins_dir;   /* default VITALS_DEFAULT_PLUGINS_DIR          */
    char *web_root;      /* serve the dashboard from disk, or NULL      */
    vitals_log_level log_level;
    double ping_interval; /* seconds between WebSocket pings; a client silent
                             for a whole interval after one is dropped */

    /* [ingest] */
    gboolean ingest_enabled; /* StatsD over UDP and POST /api/v1/ingest   */
    char *ingest_listen;     /* UDP address, default 127.0.0.1            */
    int ingest_port;         /* UDP port, default 8125; 0 = ephemeral     */

    GKeyFile *keyfile;   /* the parsed file (empty when none)           */
    GHashTable *lines;   /* "group\x1fkey" and "group" -> line (GINT)   */
} vitals_config;

/* Fills every field with its default; no file. */
void vitals_config_init(vitals_config *cfg);

/*
 * Reads `path` over the defaults.  Checks [host] keys and values; warns
 * (through vitals_log) about groups that are neither [host] nor
 * [plugin:NAME].  On error returns FALSE with a message such as
 * "vitals.ini:7: key 'port' in [host]: 'abc' is not an integer 0..65535".
 */
gboolean vitals_config_load(vitals_config *cfg, const char *path, GError **error);

void vitals_config_clear(vitals_config *cfg);

/* The line of a key (or of a group header when key is NULL), 0 if unknown. */
int vitals_config_line(const vitals_config *cfg, const char *group, const char *key);

/* `enabled` in [plugin:NAME]; TRUE when the key or the section is absent. */
gboolean vitals_config_plugin_enabled(const vitals_config *cfg, const char *plugin,
                                      GError **error);

/*
 * Fills a plugin's state from [plugin:NAME] through its schema: each entry's
 * value (or default) is parsed and stored at its offset.  Strings are
 * g_strdup'ed and appended to `owned` (freed by the caller with the plugin).
 * Keys in the section that are neither in the schema nor `enabled` fail with
 * "vitals.ini:14: unknown key 'x' in [plugin:system]; valid keys: enabled, pid, process".
 */
gboolean vitals_config_fill_plugin(const vitals_config *cfg, const char *plugin,
                                   const vitals_config_entry *schema, void *state,
                                   GPtrArray *owned, GError **error);

/* Parses one value of a schema type (shared by the file and the defaults). */
gboolean vitals_config_parse_value(vitals_config_type type, const char *text, void *dest,
                                   GPtrArray *owned, const char **why);

#endif
