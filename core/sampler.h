/*
 * sampler.h — the tick.  Every `interval` seconds it calls every plugin's
 * collect(), freezes one frame in the registry and hands the encoded sample
 * (and the descriptors, when they changed) to the WebSocket hub.
 */
#ifndef VITALS_SAMPLER_H
#define VITALS_SAMPLER_H

#include <glib.h>

#include "loader.h"
#include "registry.h"
#include "ws_hub.h"

typedef struct vitals_sampler vitals_sampler;

/* Starts the sampler's thread; the first tick is immediate. */
vitals_sampler *vitals_sampler_start(double interval, vitals_registry *reg, vitals_plugins *plugins,
                                     vitals_hub *hub, GError **error);

/* Finishes the tick in progress and joins the thread. */
void vitals_sampler_stop(vitals_sampler *s);

#endif
