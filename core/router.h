/*
 * router.h — hands ingest records to the plugins that subscribed to them.
 *
 * A subscription is a name: it matches records with exactly that name or
 * with that name followed by '.' and more ("action" gets "action.queue").
 * Record callbacks of one plugin never run concurrently with each other,
 * whichever thread (UDP, HTTP) the record came from.
 */
#ifndef VITALS_ROUTER_H
#define VITALS_ROUTER_H

#include <glib.h>
#include <vitals/plugin.h>

typedef struct vitals_router vitals_router;

vitals_router *vitals_router_new(void);
void vitals_router_free(vitals_router *router);

/* Adds a subscription of plugin `p` (`owner` names it in logs).  Returns 0,
 * or -1 for an empty or invalid name or a NULL callback. */
int vitals_router_subscribe(vitals_router *router, vitals_plugin *p, const char *owner,
                            const char *name, vitals_record_fn on_record);

/* Removes every subscription of plugin `p`.  When it returns, no callback
 * of `p` is running or will run. */
void vitals_router_unsubscribe(vitals_router *router, vitals_plugin *p);

/* Delivers one record to every matching subscriber; returns how many got
 * it.  Safe from any thread. */
size_t vitals_router_dispatch(vitals_router *router, const vitals_record *record);

/* Number of subscriptions (for /healthz and tests). */
guint vitals_router_count(vitals_router *router);

#endif
