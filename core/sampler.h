/*
 * sampler.h — the tick, and the one thread that runs plugin code.
 *
 * Every `interval` seconds the sampler calls every plugin's collect(),
 * freezes one frame in the registry and hands the encoded sample (and the
 * descriptors, when they changed) to the WebSocket hub.  Because it owns
 * the plugins, changes to them — a file dropped in or removed, a reloaded
 * config — are queued to it and applied between ticks.
 */
#ifndef VITALS_SAMPLER_H
#define VITALS_SAMPLER_H

#include <glib.h>

#include "config.h"
#include "loader.h"
#include "registry.h"
#include "ws_hub.h"

typedef struct vitals_sampler vitals_sampler;

/* Starts the sampler's thread; the first tick is immediate.  `cfg` is the
 * configuration the plugins were loaded with (borrowed).  `running` is
 * kept equal to the number of running plugins (read it atomically). */
vitals_sampler *vitals_sampler_start(double interval, vitals_registry *reg, vitals_plugins *plugins,
                                     vitals_hub *hub, const vitals_config *cfg, gint *running,
                                     GError **error);

/* A plugin file settled in, or left, the plugins directory: (re)load or
 * unload it now, between ticks.  Safe from any thread. */
void vitals_sampler_plugin_file(vitals_sampler *s, const char *file, gboolean removed);

/* A new configuration (ownership passes): every plugin whose [plugin:NAME]
 * section changed is restarted with it.  Safe from any thread. */
void vitals_sampler_reload(vitals_sampler *s, vitals_config *cfg);

/* Finishes the tick in progress and joins the thread. */
void vitals_sampler_stop(vitals_sampler *s);

#endif
