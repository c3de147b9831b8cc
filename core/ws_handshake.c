/*
 * ws_handshake.c — the checks of a WebSocket opening handshake (see
 * ws_handshake.h).  The HTTP status each failure gets, and the words, are
 * the HTTP layer's (http_ws.c); this file only decides.
 */
#include "ws_handshake.h"

#include <string.h>

#include "auth.h"

gboolean vitals_ws_header_has_token(const char *value, const char *token)
{
    if (!value)
        return FALSE;
    size_t n = strlen(token);
    for (const char *p = value; *p;) {
        size_t len = strcspn(p, ",");
        /* Trim the blanks around this item of the list. */
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == n && g_ascii_strncasecmp(s, token, n) == 0)
            return TRUE;
        p += len;
        if (*p == ',')
            p++;
    }
    return FALSE;
}

vitals_ws_handshake_result vitals_ws_handshake_check(const vitals_ws_request *req,
                                                     const char *const *allowed_origins,
                                                     char accept[WS_ACCEPT_LEN])
{
    if (!vitals_ws_header_has_token(req->upgrade, "websocket") ||
        !vitals_ws_header_has_token(req->connection, "upgrade"))
        return VITALS_WS_HANDSHAKE_NOT_UPGRADE;
    if (!req->version || strcmp(req->version, "13") != 0)
        return VITALS_WS_HANDSHAKE_VERSION;
    if (!ws_accept_key(req->key, accept))
        return VITALS_WS_HANDSHAKE_KEY;
    if (!vitals_auth_origin_allowed(req->origin, req->host, allowed_origins))
        return VITALS_WS_HANDSHAKE_ORIGIN;
    return VITALS_WS_HANDSHAKE_OK;
}
