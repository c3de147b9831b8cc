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
#define VITALS_DEFAULT_WS_MAX_MESSAGE (64 * 1024)
#define VITALS_DEFAULT_MAX_CLIENTS 10000
#define VITALS_DEFAULT_SEND_TIMEOUT 30.0
#define VITALS_DEFAULT_HTTP_TIMEOUT 30
#define VITALS_DEFAULT_PROBE_TIMEOUT 5.0

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
    int ws_max_message;   /* largest client message (bytes); larger: close 1009 */
    int max_clients;      /* WebSocket clients at once; one more gets 503 */
    double send_timeout;  /* drop a client whose socket takes nothing this long */
    int http_timeout;     /* seconds an HTTP connection may sit idle or half-sent */
    char *auth_token;     /* required on /api/, /metrics and /ws, or NULL */
    gboolean allow_anonymous; /* serve a non-loopback address without a token */
    char *allowed_origins; /* WebSocket origins besides the host's own, or NULL */
    char *tls_cert;       /* PEM certificate chain: serve https/wss (tls.c), or NULL */
    char *tls_key;        /* PEM private key of tls_cert, or NULL */
    /* [probe] (loader.c, probe.c) */
    gboolean probe;       /* enabled: try each in-process plugin in a child first */
    double probe_timeout; /* timeout: seconds before a probe counts as hung    */
    char *probe_cache;    /* cache: verdict file, NULL: $XDG_CACHE_HOME/vitals/probe-cache.ini */

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

/* The keys of [plugin:NAME] that the host reads itself (enabled, isolate,
 * deadline); a plugin's schema may not use them. */
extern const char *const vitals_config_plugin_host_keys[];

/* Reads host key `key` of [plugin:NAME] as `type` into `dest` (untouched
 * when the key is absent).  FALSE with `error` set for a bad value. */
gboolean vitals_config_plugin_host_value(const vitals_config *cfg, const char *plugin,
                                         const char *key, vitals_config_type type, void *dest,
                                         GError **error);

/* Parses one value of a schema type (shared by the file and the defaults). */
gboolean vitals_config_parse_value(vitals_config_type type, const char *text, void *dest,
                                   GPtrArray *owned, const char **why);

#endif
