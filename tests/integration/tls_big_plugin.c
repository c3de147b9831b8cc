/*
 * tls_big_plugin.c — a collector with thousands of metrics, built by
 * tls.test.mjs into a temporary plugins directory.
 *
 * Why: the WebSocket path over TLS must carry messages larger than 64 KiB
 * whole (libmicrohttpd 0.9.75 had stalls and lost last chunks on large
 * sends through its TLS upgrade proxy).  A plugin may register at most
 * 1000 metrics, so the test builds this file several times under other
 * names (-DBIG_NAME=tls_big_2 …); with all of them loaded, every hello,
 * sample and request_metrics answer is larger than 64 KiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vitals/plugin.h>

#ifndef BIG_NAME
#define BIG_NAME tls_big_plugin
#endif
#define STR2(x) #x
#define STR(x) STR2(x)
/* One more expansion, so the plugin is named after BIG_NAME's value. */
#define DEFINE_PLUGIN(name, ...) VITALS_PLUGIN_DEFINE(name, __VA_ARGS__)

struct big {
    int64_t metrics;
    uint64_t tick;
    vitals_metric **m;
};

static const vitals_config_entry big_config[] = {
    {"metrics", VITALS_CFG_INT, "1000", offsetof(struct big, metrics), "How many metrics (at most 1000)"},
    {0}};

static int big_init(vitals_plugin *p)
{
    struct big *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    if (s->metrics < 1 || s->metrics > 1000) {
        api->set_error(p, "metrics must be 1..1000");
        return -1;
    }
    s->m = calloc((size_t)s->metrics, sizeof *s->m);
    if (!s->m)
        return -1;
    for (int64_t i = 0; i < s->metrics; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s.m%04lld", STR(BIG_NAME), (long long)i);
        s->m[i] = api->metric_register(p, &(vitals_metric_desc){
            .id = id, .title = id, .unit = "", .kind = VITALS_GAUGE, .precision = 3,
            .priority = 1000});
        if (!s->m[i]) {
            api->set_error(p, "could not register its metrics");
            return -1;
        }
    }
    return 0;
}

static void big_collect(vitals_plugin *p)
{
    struct big *s = vitals_state(p);
    const vitals_host_api *api = vitals_api(p);
    s->tick++;
    /* Values of ten characters or so, different every tick. */
    for (int64_t i = 0; i < s->metrics; i++)
        api->metric_set(s->m[i], (double)(((uint64_t)i * 1000003u + s->tick * 7919u) % 1000000000u) / 1000.0);
}

static void big_shutdown(vitals_plugin *p)
{
    struct big *s = vitals_state(p);
    free(s->m);
    s->m = NULL;
}

DEFINE_PLUGIN(BIG_NAME, "1.0", "A thousand metrics (tls.test.mjs)", big_config, struct big,
              big_init, big_collect, big_shutdown)
