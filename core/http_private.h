/*
 * http_private.h — what the files of the HTTP layer share (http.c: the
 * daemon, the gate and the routes; http_reply.c: answers and their headers;
 * http_ws.c: the WebSocket handshake).  Not part of the host's interface.
 */
#ifndef VITALS_HTTP_PRIVATE_H
#define VITALS_HTTP_PRIVATE_H

#include <jansson.h>
#include <microhttpd.h>

#include "http.h"

struct vitals_http {
    vitals_http_options opt;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char *url;
    char **allowed_origins; /* parsed [host] allowed_origins, NULL-terminated */
    gint64 started;
};

/* Per-request state, freed by the request-completed callback whatever happens. */
typedef struct vitals_http_request {
    GByteArray *body;
    gboolean too_big;
    gboolean ws_slot; /* a hub slot is reserved and not yet handed over */
} vitals_http_request;

/* Answers with `data` of `type`; every answer gets the security headers
 * (the HTML one its Content-Security-Policy).  `header`/`value` add one
 * more header when not NULL. */
enum MHD_Result vitals_http_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                                  void *data, size_t len, enum MHD_ResponseMemoryMode mode,
                                  const char *header, const char *value);

/* Answers with `json` (consumed) as the body, plus one optional header. */
enum MHD_Result vitals_http_reply_json(struct MHD_Connection *conn, unsigned status, json_t *json,
                                       const char *header, const char *value);

/* {"error": message} (and "path": path when not NULL). */
enum MHD_Result vitals_http_reply_error(struct MHD_Connection *conn, unsigned status,
                                        const char *message, const char *path);

/* The client's "host:port", for logs. */
void vitals_http_peer(struct MHD_Connection *conn, char *out, size_t size);

/* GET /ws: checks the handshake (RFC 6455 4.2.1), the Origin and the
 * client cap, answers 101 and hands the socket to the hub. */
enum MHD_Result vitals_http_route_ws(vitals_http *http, struct MHD_Connection *conn,
                                     vitals_http_request *req);

#endif
