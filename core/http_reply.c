/*
 * http_reply.c — every answer of the HTTP layer, with the same headers.
 *
 * Why it exists: security headers that are added route by route get
 * forgotten on the one route that matters (an error page, a 405), so every
 * response is built here: handed to libmicrohttpd, or as bytes for the
 * sockets the host answers itself (WebSocket refusals, http_accept.c).  The HTML gets a Content-Security-Policy that
 * allows nothing but the host itself and no inline script or style; every
 * other answer gets one that allows nothing at all.  No answer may be
 * framed (clickjacking), sniffed as another type, or leak the page's URL
 * (which may hold ?token=) in a Referer.
 */
#include "http_private.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net.h"
#include "registry_json.h"

/* The dashboard: its own scripts, styles and connections only.  'self'
 * covers ws:// and wss:// to the same host in CSP level 3. */
#define CSP_HTML "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                 "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "    \
                 "frame-ancestors 'none'"
/* JSON, text and assets: nothing to run, nothing to frame. */
#define CSP_OTHER "default-src 'none'; frame-ancestors 'none'"

/* What every answer carries besides its type, whichever way it is sent. */
static const char *const common_headers[][2] = {
    {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};

static const char *csp_for(const char *type)
{
    return g_str_has_prefix(type, "text/html") ? CSP_HTML : CSP_OTHER;
}

/* A response with the security headers; `etag` NULL: never stored. */
static struct MHD_Response *new_response(const char *type, void *data, size_t len,
                                         enum MHD_ResponseMemoryMode mode, const char *etag)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(data);
        return NULL;
    }
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    for (size_t i = 0; i < G_N_ELEMENTS(common_headers); i++) {
        /* A file with a tag may be kept, but is revalidated on every use. */
        const char *v = etag && !strcmp(common_headers[i][0], MHD_HTTP_HEADER_CACHE_CONTROL)
                            ? "no-cache" : common_headers[i][1];
        MHD_add_response_header(r, common_headers[i][0], v);
    }
    MHD_add_response_header(r, "Content-Security-Policy", csp_for(type ? type : ""));
    if (etag)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result vitals_http_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                                  void *data, size_t len, enum MHD_ResponseMemoryMode mode,
                                  const char *header, const char *value)
{
    struct MHD_Response *r = new_response(type, data, len, mode, NULL);
    if (r && header)
        MHD_add_response_header(r, header, value);
    return queue(conn, status, r);
}

enum MHD_Result vitals_http_reply_file(struct MHD_Connection *conn, const char *type,
                                       const void *data, size_t len, const char *etag,
                                       gboolean not_modified)
{
    if (not_modified) /* 304: the tag and the policies, no body */
        return queue(conn, MHD_HTTP_NOT_MODIFIED,
                     new_response(type, NULL, 0, MHD_RESPMEM_PERSISTENT, etag));
    return queue(conn, MHD_HTTP_OK,
                 new_response(type, (void *)data, len, MHD_RESPMEM_PERSISTENT, etag));
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

void vitals_http_date(char *out, size_t size)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *vitals_http_reply_bytes(unsigned status, json_t *json, const char *header, const char *value,
                              size_t *len)
{
    static const char type[] = "application/json";
    size_t body_len = 0;
    char *body = vitals_json_dump(json, &body_len);
    const char *reason = MHD_get_reason_phrase_for(status);
    char date[64];
    vitals_http_date(date, sizeof date);
    GString *out = g_string_sized_new(512 + body_len);
    g_string_append_printf(out, "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                           "Content-Type: %s\r\n", status, reason && *reason ? reason : "Error",
                           date, type);
    for (size_t i = 0; i < G_N_ELEMENTS(common_headers); i++)
        g_string_append_printf(out, "%s: %s\r\n", common_headers[i][0], common_headers[i][1]);
    g_string_append_printf(out, "Content-Security-Policy: %s\r\n", csp_for(type));
    if (header)
        g_string_append_printf(out, "%s: %s\r\n", header, value);
    g_string_append_printf(out, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
    if (body)
        g_string_append_len(out, body, (gssize)body_len);
    free(body); /* vitals_json_dump's text is malloc'ed */
    *len = out->len;
    return g_string_free(out, FALSE);
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
