/*
 * http_reply.c — every answer of the HTTP layer, with the same headers.
 *
 * Why it exists: security headers that are added route by route get
 * forgotten on the one route that matters (an error page, a 405), so every
 * response is built here.  The HTML gets a Content-Security-Policy that
 * allows nothing but the host itself and no inline script or style; every
 * other answer gets one that allows nothing at all.  No answer may be
 * framed (clickjacking), sniffed as another type, or leak the page's URL
 * (which may hold ?token=) in a Referer.
 */
#include "http_private.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "net.h"
#include "registry_json.h"

/* The dashboard: its own scripts, styles and connections only.  'self'
 * covers ws:// and wss:// to the same host in CSP level 3. */
#define CSP_HTML "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                 "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "    \
                 "frame-ancestors 'none'"
/* JSON, text and assets: nothing to run, nothing to frame. */
#define CSP_OTHER "default-src 'none'; frame-ancestors 'none'"

enum MHD_Result vitals_http_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                                  void *data, size_t len, enum MHD_ResponseMemoryMode mode,
                                  const char *header, const char *value)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            g_str_has_prefix(type, "text/html") ? CSP_HTML : CSP_OTHER);
    if (header)
        MHD_add_response_header(r, header, value);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result vitals_http_reply_json(struct MHD_Connection *conn, unsigned status, json_t *json,
                                       const char *header, const char *value)
{
    size_t len = 0;
    char *text = vitals_json_dump(json, &len);
    if (!text)
        return MHD_NO;
    /* MUST_FREE hands the buffer to MHD, which frees it with free(). */
    return vitals_http_reply(conn, status, "application/json", text, len, MHD_RESPMEM_MUST_FREE,
                             header, value);
}

enum MHD_Result vitals_http_reply_error(struct MHD_Connection *conn, unsigned status,
                                        const char *message, const char *path)
{
    json_t *body = json_pack("{s:s}", "error", message);
    /* A path that is not UTF-8 cannot be a JSON string: leave it out. */
    if (path && g_utf8_validate(path, -1, NULL))
        json_object_set_new(body, "path", json_string(path));
    return vitals_http_reply_json(conn, status, body, NULL, NULL);
}

void vitals_http_peer(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = info ? info->client_addr : NULL;
    socklen_t len = addr && addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                        : sizeof(struct sockaddr_in);
    vitals_net_name(addr, len, out, size);
}
