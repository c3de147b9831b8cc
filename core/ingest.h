/*
 * ingest.h — what applications report, from the network to the plugins.
 *
 * The sink counts records and rejections (as the host's own metrics
 * vitals.ingest.records and vitals.ingest.rejected), logs bad input at most
 * once per 10 s per source quoting the line, and hands every good record to
 * the router.  The UDP listener feeds it StatsD datagrams from its own
 * thread, in batches (recvmmsg), so a flood never touches the sampler; the
 * HTTP route feeds it POSTed JSON or StatsD text.
 */
#ifndef VITALS_INGEST_H
#define VITALS_INGEST_H

#include <glib.h>
#include <stdint.h>

#include "registry.h"
#include "router.h"

typedef struct vitals_ingest_sink vitals_ingest_sink;

/* Registers the host's ingest metrics in `reg` (plugin "vitals"). */
vitals_ingest_sink *vitals_ingest_sink_new(vitals_router *router, vitals_registry *reg);
void vitals_ingest_sink_free(vitals_ingest_sink *sink);

/* Parses StatsD text IN PLACE and delivers it; `source` names the sender in
 * logs ("udp 127.0.0.1:40000").  Returns the records delivered; *rejected
 * (may be NULL) receives the number of malformed lines. */
size_t vitals_ingest_statsd(vitals_ingest_sink *sink, char *text, size_t len, const char *source,
                            size_t *rejected);

/* Delivers one record built elsewhere (JSON) and counts it. */
void vitals_ingest_record(vitals_ingest_sink *sink, const vitals_record *record);
/* Counts (and maybe logs) one refused input: `what` quotes it, `why` says why. */
void vitals_ingest_reject(vitals_ingest_sink *sink, const char *source, const char *what,
                          size_t what_len, const char *why);

/* Totals since start, for /healthz and tests. */
void vitals_ingest_totals(vitals_ingest_sink *sink, guint64 *records, guint64 *rejected);

typedef struct vitals_ingest_udp vitals_ingest_udp;

/* Binds the UDP socket (port 0: any free port) and starts its thread.
 * NULL with *error naming the address when it cannot. */
vitals_ingest_udp *vitals_ingest_udp_start(const char *listen, int port, vitals_ingest_sink *sink,
                                           GError **error);
uint16_t vitals_ingest_udp_port(const vitals_ingest_udp *udp);
void vitals_ingest_udp_stop(vitals_ingest_udp *udp);

#endif
