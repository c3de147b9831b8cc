/*
 * ws_handshake.h — whether a WebSocket opening handshake may proceed
 * (RFC 6455 section 4.2.1, and the Origin rule of auth.h), from its header
 * values alone.  Pure: no HTTP library, no sockets.
 *
 * Why it exists: two paths answer handshakes — the host's own (plain
 * HTTP, http_accept.c) and libmicrohttpd's (TLS, http_ws.c) — and a client
 * must be refused for the same reasons, in the same order, on both.
 */
#ifndef VITALS_WS_HANDSHAKE_H
#define VITALS_WS_HANDSHAKE_H

#include <glib.h>

#include "ws_codec.h"

/* The request's header values (NULL when absent). */
typedef struct vitals_ws_request {
    const char *upgrade;    /* must list "websocket" */
    const char *connection; /* must list "upgrade" */
    const char *version;    /* Sec-WebSocket-Version: must be "13" */
    const char *key;        /* Sec-WebSocket-Key: 16 bytes in base64 */
    const char *origin;
    const char *host;
} vitals_ws_request;

typedef enum {
    VITALS_WS_HANDSHAKE_OK,          /* accept[] holds Sec-WebSocket-Accept */
    VITALS_WS_HANDSHAKE_NOT_UPGRADE, /* 400 */
    VITALS_WS_HANDSHAKE_VERSION,     /* 426, with Sec-WebSocket-Version: 13 */
    VITALS_WS_HANDSHAKE_KEY,         /* 400 */
    VITALS_WS_HANDSHAKE_ORIGIN       /* 403 */
} vitals_ws_handshake_result;

/*
 * Checks, in this order: the Upgrade and Connection headers, the version,
 * the key, then the Origin against the host's own (the Host header) and
 * `allowed_origins` (NULL-terminated, or NULL).  The first failure is
 * returned; on success accept[] is filled.
 */
vitals_ws_handshake_result vitals_ws_handshake_check(const vitals_ws_request *req,
                                                     const char *const *allowed_origins,
                                                     char accept[WS_ACCEPT_LEN]);

/* TRUE if the comma-separated header value lists `token` (any case). */
gboolean vitals_ws_header_has_token(const char *value, const char *token);

#endif
