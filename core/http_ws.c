/*
 * http_ws.c — the WebSocket handshake on libmicrohttpd, up to the hand-off.
 *
 * Why it exists: the handshake is where a WebSocket is refused — a malformed
 * request (400), a version other than 13 (426), a page from another site
 * (403, cross-site WebSocket hijacking), one client too many (503) — and
 * refusing must cost nothing: no slot, no socket for the hub.  Once the 101
 * is on the wire the socket and its slot belong to the hub; libmicrohttpd
 * keeps only the duty to close it when the hub says so.
 */
#include "http_private.h"

#include <netinet/in.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "ws_codec.h"

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

/* True if the comma-separated header value contains `token` (any case). */
static gboolean header_has_token(const char *value, const char *token)
{
    if (!value)
        return FALSE;
    gboolean found = FALSE;
    char **parts = g_strsplit(value, ",", -1);
    for (char **p = parts; *p && !found; p++)
        found = g_ascii_strcasecmp(g_strstrip(*p), token) == 0;
    g_strfreev(parts);
    return found;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

enum MHD_Result vitals_http_route_ws(vitals_http *http, struct MHD_Connection *conn,
                                     vitals_http_request *req)
{
    if (!header_has_token(header(conn, MHD_HTTP_HEADER_UPGRADE), "websocket") ||
        !header_has_token(header(conn, MHD_HTTP_HEADER_CONNECTION), "upgrade"))
        return vitals_http_reply_error(conn, MHD_HTTP_BAD_REQUEST,
                                       "expected a WebSocket upgrade request", NULL);
    const char *version = header(conn, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13") != 0)
        return vitals_http_reply_json(conn, MHD_HTTP_UPGRADE_REQUIRED,
                                      json_pack("{s:s}", "error", "only WebSocket version 13 is spoken"),
                                      "Sec-WebSocket-Version", "13");
    char accept[WS_ACCEPT_LEN];
    if (!ws_accept_key(header(conn, "Sec-WebSocket-Key"), accept))
        return vitals_http_reply_error(conn, MHD_HTTP_BAD_REQUEST,
                                       "missing or malformed Sec-WebSocket-Key", NULL);
    const char *origin = header(conn, MHD_HTTP_HEADER_ORIGIN);
    if (!vitals_auth_origin_allowed(origin, header(conn, MHD_HTTP_HEADER_HOST),
                                    (const char *const *)http->allowed_origins)) {
        char peer[INET6_ADDRSTRLEN + 8];
        vitals_http_peer(conn, peer, sizeof peer);
        vitals_log(VITALS_LOG_WARN, "http", "%s: WebSocket from origin '%s' refused (not this "
                   "host's origin nor in [host] allowed_origins)", peer, origin);
        return vitals_http_reply_error(conn, MHD_HTTP_FORBIDDEN,
                                       "this origin may not open a WebSocket here; see [host] "
                                       "allowed_origins", NULL);
    }
    if (!vitals_hub_reserve(http->opt.hub)) {
        json_t *body = json_pack("{s:s, s:i}", "error", "too many WebSocket clients", "max_clients",
                                 (int)http->opt.max_clients);
        return vitals_http_reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body, NULL, NULL);
    }
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgraded, http);
    if (!r) {
        vitals_hub_unreserve(http->opt.hub);
        return MHD_NO;
    }
    /* libmicrohttpd adds "Connection: Upgrade" itself. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
    /* Until on_upgraded runs, the request owns the slot (and gives it back
     * if the connection dies before the 101 is out). */
    req->ws_slot = TRUE;
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}
