/*
 * http_private.h — what the files of the HTTP layer share (http.c: the
 * daemon, the gate and the routes; http_reply.c: answers and their headers;
 * http_ws.c: the WebSocket handshake's verdict; http_accept.c: the accept
 * loop that answers plain-HTTP handshakes itself).  Not part of the host's
 * interface.
 */
#ifndef VITALS_HTTP_PRIVATE_H
#define VITALS_HTTP_PRIVATE_H

#include <jansson.h>
#include <microhttpd.h>

#include "http.h"
#include "ws_handshake.h"

typedef struct vitals_http_acceptor vitals_http_acceptor;

struct vitals_http {
    vitals_http_options opt;
    struct MHD_Daemon *daemon;
    /* Plain HTTP: the host's accept loop, which owns the listening socket.
     * NULL with TLS, where libmicrohttpd listens itself. */
    vitals_http_acceptor *acceptor;
    uint16_t port;
    char *url;
    char **allowed_origins; /* parsed [host] allowed_origins, NULL-terminated */
    gint64 started;
};

/* The 401 of the token gate, the same on every path. */
#define VITALS_HTTP_TOKEN_NEEDED \
    "a token is needed: send 'Authorization: Bearer <token>' or add ?token=<token>"
#define VITALS_HTTP_TOKEN_CHALLENGE "Bearer realm=\"vitals\""

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

/* Answers with an embedded file (static `data`) that the browser may keep
 * and revalidate: ETag `etag`, Cache-Control: no-cache; a body-less 304
 * when `not_modified` (the request's If-None-Match named `etag`). */
enum MHD_Result vitals_http_reply_file(struct MHD_Connection *conn, const char *type,
                                       const void *data, size_t len, const char *etag,
                                       gboolean not_modified);

/* Answers with `json` (consumed) as the body, plus one optional header. */
enum MHD_Result vitals_http_reply_json(struct MHD_Connection *conn, unsigned status, json_t *json,
                                       const char *header, const char *value);

/* {"error": message} (and "path": path when not NULL). */
enum MHD_Result vitals_http_reply_error(struct MHD_Connection *conn, unsigned status,
                                        const char *message, const char *path);

/* The same answer as vitals_http_reply_json, as the bytes of a whole HTTP
 * response that ends the connection (Connection: close), for a socket
 * libmicrohttpd does not own.  g_free the result. */
char *vitals_http_reply_bytes(unsigned status, json_t *json, const char *header, const char *value,
                              size_t *len);

/* The Date header's value (RFC 9110 5.6.7), in English whatever the locale. */
void vitals_http_date(char *out, size_t size);

/* The client's "host:port", for logs. */
void vitals_http_peer(struct MHD_Connection *conn, char *out, size_t size);

/* The verdict on a WebSocket handshake, whoever answers it. */
typedef struct vitals_http_ws_answer {
    unsigned status;            /* 101: go ahead; a hub slot is reserved for the client */
    json_t *body;               /* otherwise the refusal's JSON body, for the caller to send */
    const char *header, *value; /* and one more header of the refusal, or NULL */
    char accept[WS_ACCEPT_LEN]; /* 101: the Sec-WebSocket-Accept value */
} vitals_http_ws_answer;

/* Checks the handshake (RFC 6455 4.2.1), the Origin (logging a refusal,
 * naming `peer`) and the client cap.  The token was checked before. */
void vitals_http_ws_decide(vitals_http *http, const vitals_ws_request *req, const char *peer,
                           vitals_http_ws_answer *out);

/* GET /ws reaching libmicrohttpd: decides, answers 101 and hands the
 * socket to the hub once libmicrohttpd has upgraded it. */
enum MHD_Result vitals_http_route_ws(vitals_http *http, struct MHD_Connection *conn,
                                     vitals_http_request *req);

/* Starts the accept loop on `listen_fd` (which it owns once started) in a thread of
 * its own: `GET /ws` is answered there, any other connection is given to
 * http->daemon (started with MHD_USE_NO_LISTEN_SOCKET).  NULL with *error. */
vitals_http_acceptor *vitals_http_accept_start(vitals_http *http, int listen_fd, GError **error);

/* Stops the loop: closes the listening socket and every connection not
 * yet handed on.  Connections already given to the hub or libmicrohttpd
 * are theirs. */
void vitals_http_accept_stop(vitals_http_acceptor *acceptor);

#endif
