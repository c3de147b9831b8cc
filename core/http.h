/*
 * http.h — the HTTP face of the host (libmicrohttpd): the dashboard, the
 * JSON API, /healthz, and the WebSocket handshake, after which the socket
 * belongs to the hub.  It also decides who may ask: the token, the
 * WebSocket Origin, the client cap, and the security headers of every answer.
 */
#ifndef VITALS_HTTP_H
#define VITALS_HTTP_H

#include <glib.h>
#include <stdint.h>

#include "ingest.h"
#include "registry.h"
#include "ws_hub.h"

#define VITALS_HTTP_ERROR (vitals_http_error_quark())
GQuark vitals_http_error_quark(void);

typedef enum {
    VITALS_HTTP_ERROR_ADDRESS,   /* the listen address does not resolve */
    VITALS_HTTP_ERROR_IN_USE,    /* the port is taken */
    VITALS_HTTP_ERROR_BIND,      /* any other bind/listen failure */
    VITALS_HTTP_ERROR_START      /* libmicrohttpd refused to start */
} vitals_http_error;

typedef struct vitals_http_options {
    const char *listen;          /* address or host name */
    int port;                    /* 0 = ephemeral */
    const char *web_root;        /* serve the dashboard from disk, or NULL */
    double interval;
    vitals_registry *registry;
    vitals_hub *hub;
    const gint *plugins_running; /* kept current by the sampler; read atomically */
    vitals_ingest_sink *ingest;  /* NULL when ingest is off */
    uint16_t ingest_udp_port;    /* for /healthz; 0 when UDP is off */
    const char *auth_token;      /* needed on /api/, /metrics and /ws; NULL: none */
    const char *allowed_origins; /* comma-separated WebSocket origins besides our own */
    unsigned http_timeout;       /* seconds a connection may idle or dawdle; 0: 30 */
    unsigned max_clients;        /* WebSocket clients (the hub enforces it); 0: 10,000 */
    const struct vitals_tls *tls; /* serve https and wss (tls.h), or NULL: plain http */
} vitals_http_options;

typedef struct vitals_http vitals_http;

/* Binds and starts serving.  NULL with *error (naming address and port). */
vitals_http *vitals_http_start(const vitals_http_options *options, GError **error);

/* The bound port (useful with port 0) and the URL of the dashboard. */
uint16_t vitals_http_port(const vitals_http *http);
const char *vitals_http_url(const vitals_http *http);

/* Stops serving; the hub must already have released its sockets. */
void vitals_http_stop(vitals_http *http);

#endif
