/*
 * cli_tools.h — what the command line can do besides running the host,
 * and where an installed host looks for its files.
 *
 *   vitals --list-plugins        load the plugins directory, print every
 *                                plugin with its version, status and
 *                                metrics, shut them down, exit
 *   vitals --check-config FILE   check FILE, and each [plugin:NAME] section
 *                                against the schema of NAME.so, without
 *                                running any plugin's init
 *
 * Install-relative defaults: the build bakes in the configured install
 * prefix (VITALS_DEFAULT_PLUGINS_DIR, VITALS_DEFAULT_CONFIG_FILE).  A tree
 * installed elsewhere (`cmake --install build --prefix /opt/x`, or moved
 * later) keeps working: when the running binary sits in <P>/<bindir> and
 * <P>/<libdir>/vitals exists for some other prefix P, the defaults follow P.
 */
#ifndef VITALS_CLI_TOOLS_H
#define VITALS_CLI_TOOLS_H

#include <stdio.h>

#include "config.h"

/* The plugins directory used when neither the command line nor the config
 * file names one: <P>/<libdir>/vitals/plugins for the prefix P the binary
 * runs from, else VITALS_DEFAULT_PLUGINS_DIR.  A static string, computed
 * once (thread-safe). */
const char *vitals_default_plugins_dir(void);

/* The config file read when --config is not given (and only if it exists):
 * <P>/<sysconfdir>/vitals/vitals.ini for the prefix P the binary runs from,
 * else VITALS_DEFAULT_CONFIG_FILE.  A static string, computed once. */
const char *vitals_default_config_file(void);

/* vitals_config_init() with plugins_dir set to vitals_default_plugins_dir().
 * The caller clears `cfg` with vitals_config_clear(). */
void vitals_cli_config_init(vitals_config *cfg);

/*
 * --list-plugins: loads cfg->plugins_dir as the host would (same config,
 * and an ingest router when cfg->ingest_enabled, so ingest plugins start),
 * prints to `out` each plugin file with its version, status (running,
 * disabled, or failed and why) and the metrics it registered (id, kind,
 * unit), then shuts every plugin down.  Loader messages go to the log
 * (stderr) at warning level and above.  Returns the process exit status:
 * 0, or 1 when the directory cannot be read.
 */
int vitals_cli_list_plugins(const vitals_config *cfg, FILE *out);

/*
 * --check-config FILE: loads `file` with vitals_config_load(), then for each
 * [plugin:NAME] section opens NAME.so from the plugins directory
 * (`plugins_dir` when non-NULL, else the file's [host] plugins_dir, else
 * vitals_default_plugins_dir()), checks its descriptor like the loader does
 * and fills a scratch state from the section through the plugin's schema —
 * no init, collect or shutdown runs.  Prints "FILE: ok" to `out` and returns
 * 0, or prints every error (each naming file:line where there is one) and a
 * count to `err` and returns 1.
 */
int vitals_cli_check_config(const char *file, const char *plugins_dir, FILE *out, FILE *err);

#endif
