/*
 * http_ws.c — the WebSocket handshake's verdict, and libmicrohttpd's way of
 * answering it.
 *
 * Why it exists: the handshake is where a WebSocket is refused — a malformed
 * request (400), a version other than 13 (426), a page from another site
 * (403, cross-site WebSocket hijacking), one client too many (503) — and
 * refusing must cost nothing: no slot, no socket for the hub.  Two paths
 * answer handshakes: the host's own accept loop (http_accept.c, plain HTTP)
 * and libmicrohttpd (TLS, and the rare upgrade that reaches it otherwise).
 * Both ask vitals_http_ws_decide, so a client is refused alike on either.
 * Once the 101 is on the wire the socket and its slot belong to the hub.
 */
#include "http_private.h"

#include <netinet/in.h>
#include <string.h>

#include "log.h"

void vitals_http_ws_decide(vitals_http *http, const vitals_ws_request *req, const char *peer,
                           vitals_http_ws_answer *out)
{
    memset(out, 0, sizeof *out);
    const char *error = NULL;
    switch (vitals_ws_handshake_check(req, (const char *const *)http->allowed_origins, out->accept)) {
    case VITALS_WS_HANDSHAKE_NOT_UPGRADE:
        out->status = MHD_HTTP_BAD_REQUEST;
        error = "expected a WebSocket upgrade request";
        break;
    case VITALS_WS_HANDSHAKE_VERSION:
        out->status = MHD_HTTP_UPGRADE_REQUIRED;
        error = "only WebSocket version 13 is spoken";
        out->header = "Sec-WebSocket-Version";
        out->value = "13";
        break;
    case VITALS_WS_HANDSHAKE_KEY:
        out->status = MHD_HTTP_BAD_REQUEST;
        error = "missing or malformed Sec-WebSocket-Key";
        break;
    case VITALS_WS_HANDSHAKE_ORIGIN:
        vitals_log(VITALS_LOG_WARN, "http", "%s: WebSocket from origin '%s' refused (not this "
                   "host's origin nor in [host] allowed_origins)", peer, req->origin);
        out->status = MHD_HTTP_FORBIDDEN;
        error = "this origin may not open a WebSocket here; see [host] allowed_origins";
        break;
    case VITALS_WS_HANDSHAKE_OK:
        if (!vitals_hub_reserve(http->opt.hub)) {
            out->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            out->body = json_pack("{s:s, s:i}", "error", "too many WebSocket clients",
                                  "max_clients", (int)http->opt.max_clients);
            return;
        }
        out->status = MHD_HTTP_SWITCHING_PROTOCOLS;
        return;
    }
    out->body = json_pack("{s:s}", "error", error);
}

/* ---- libmicrohttpd's path -------------------------------------------- */

static void release_upgraded(void *arg)
{
    MHD_upgrade_action(arg, MHD_UPGRADE_ACTION_CLOSE);
}

/* Called by MHD once the 101 is on the wire: the socket goes to the hub. */
static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    vitals_http *http = cls;
    vitals_http_request *req = req_cls;
    /* The slot travels with the socket; the request no longer gives it back. */
    if (req)
        req->ws_slot = FALSE;
    char peer[INET6_ADDRSTRLEN + 8];
    vitals_http_peer(conn, peer, sizeof peer);
    vitals_hub_adopt(http->opt.hub, sock, release_upgraded, urh, extra_in, extra_in_size, peer);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

enum MHD_Result vitals_http_route_ws(vitals_http *http, struct MHD_Connection *conn,
                                     vitals_http_request *req)
{
    vitals_ws_request ws = {.upgrade = header(conn, MHD_HTTP_HEADER_UPGRADE),
                            .connection = header(conn, MHD_HTTP_HEADER_CONNECTION),
                            .version = header(conn, "Sec-WebSocket-Version"),
                            .key = header(conn, "Sec-WebSocket-Key"),
                            .origin = header(conn, MHD_HTTP_HEADER_ORIGIN),
                            .host = header(conn, MHD_HTTP_HEADER_HOST)};
    char peer[INET6_ADDRSTRLEN + 8];
    vitals_http_peer(conn, peer, sizeof peer);
    vitals_http_ws_answer answer;
    vitals_http_ws_decide(http, &ws, peer, &answer);
    if (answer.status != MHD_HTTP_SWITCHING_PROTOCOLS)
        return vitals_http_reply_json(conn, answer.status, answer.body, answer.header, answer.value);
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgraded, http);
    if (!r) {
        vitals_hub_unreserve(http->opt.hub);
        return MHD_NO;
    }
    /* libmicrohttpd adds "Connection: Upgrade" itself. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", answer.accept);
    /* Until on_upgraded runs, the request owns the slot (and gives it back
     * if the connection dies before the 101 is out). */
    req->ws_slot = TRUE;
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}
