/*
 * http.c — routes of the HTTP API on libmicrohttpd.
 *
 * The listening socket is made here, not by libmicrohttpd, so that "port in
 * use" is one clear error and port 0 reports the port it got.  Handlers
 * answer from immutable frames and history copies, never holding the
 * registry lock while writing.  /ws checks the handshake (RFC 6455 4.2.1),
 * answers 101 and hands the socket to the hub.
 */
#include "http.h"

#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assets.h"
#include "ingest_json.h"
#include "log.h"
#include "net.h"
#include "prometheus.h"
#include "registry_json.h"
#include "ws_codec.h"

G_DEFINE_QUARK(vitals-http-error-quark, vitals_http_error)

struct vitals_http {
    vitals_http_options opt;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char *url;
    gint64 started;
};

/* The HTML gets a policy that allows nothing but the host itself. */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; "            \
            "base-uri 'none'; frame-ancestors 'none'"

/* ---- responses ------------------------------------------------------- */

static enum MHD_Result send_buffer(struct MHD_Connection *conn, unsigned status, const char *type,
                                   void *data, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (g_str_has_prefix(type, "text/html")) {
        MHD_add_response_header(r, "Content-Security-Policy", CSP);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends `json` (consumed) as the body. */
static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *json)
{
    size_t len = 0;
    char *text = vitals_json_dump(json, &len);
    if (!text)
        return MHD_NO;
    /* MUST_FREE hands the buffer to MHD, which frees it with free(). */
    return send_buffer(conn, status, "application/json", text, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
                                  const char *message, const char *url)
{
    json_t *body = json_pack("{s:s}", "error", message);
    if (url)
        json_object_set_new(body, "path", json_string(url));
    return send_json(conn, status, body);
}

/* ---- routes ---------------------------------------------------------- */

static enum MHD_Result route_descriptors(vitals_http *http, struct MHD_Connection *conn)
{
    vitals_desc_set *set = vitals_registry_descriptors(http->opt.registry);
    json_t *body = json_pack("{s:I, s:f, s:o}", "generation", (json_int_t)set->generation,
                             "interval", http->opt.interval, "descriptors",
                             vitals_json_descriptors(set));
    vitals_desc_set_unref(set);
    return send_json(conn, MHD_HTTP_OK, body);
}

static enum MHD_Result route_metrics(vitals_http *http, struct MHD_Connection *conn)
{
    vitals_frame *frame = vitals_registry_latest(http->opt.registry);
    json_t *body = vitals_json_metrics(frame);
    if (frame)
        vitals_frame_unref(frame);
    return send_json(conn, MHD_HTTP_OK, body);
}

/* GET /metrics: the latest frame for Prometheus, as OpenMetrics when the
 * Accept header asks for application/openmetrics-text, else text 0.0.4;
 * before the first tick just vitals_up and vitals_build_info. */
static enum MHD_Result route_prometheus(vitals_http *http, struct MHD_Connection *conn)
{
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    gboolean openmetrics = vitals_prometheus_wants_openmetrics(accept);
    vitals_frame *frame = vitals_registry_latest(http->opt.registry);
    size_t len = 0;
    char *text = vitals_prometheus_render(frame, openmetrics, &len);
    if (frame)
        vitals_frame_unref(frame);
    enum MHD_Result ret = send_buffer(conn, MHD_HTTP_OK,
                                      openmetrics ? VITALS_OPENMETRICS_TYPE : VITALS_PROMETHEUS_TEXT_TYPE,
                                      text, len, MHD_RESPMEM_MUST_COPY);
    g_free(text);
    return ret;
}

static enum MHD_Result route_history(vitals_http *http, struct MHD_Connection *conn)
{
    const char *metric = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "metric");
    const char *seconds = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "seconds");
    if (!metric || !metric[0])
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "missing query parameter 'metric'", NULL);
    double since = 0;
    if (seconds) {
        char *end = NULL;
        double s = g_ascii_strtod(seconds, &end);
        if (!seconds[0] || *end || !isfinite(s) || s <= 0)
            return send_error(conn, MHD_HTTP_BAD_REQUEST,
                              "'seconds' must be a positive number", NULL);
        since = g_get_real_time() / 1e6 - s;
    }
    int index = vitals_registry_find(http->opt.registry, metric);
    if (index < 0)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "unknown metric", metric);
    vitals_history *h = vitals_registry_history(http->opt.registry, index, since, 0);
    json_t *body = vitals_json_history_metric(h);
    vitals_history_free(h);
    return send_json(conn, MHD_HTTP_OK, body);
}

static enum MHD_Result route_health(vitals_http *http, struct MHD_Connection *conn)
{
    vitals_frame *frame = vitals_registry_latest(http->opt.registry);
    vitals_desc_set *set = vitals_registry_descriptors(http->opt.registry);
    json_t *body = json_pack("{s:s, s:s, s:f, s:I, s:I, s:I, s:I}", "status", "ok", "version",
                             VITALS_VERSION, "uptime",
                             (g_get_monotonic_time() - http->started) / 1e6, "plugins",
                             (json_int_t)g_atomic_int_get(http->opt.plugins_running), "metrics",
                             (json_int_t)set->count, "clients",
                             (json_int_t)vitals_hub_clients(http->opt.hub), "seq",
                             (json_int_t)(frame ? frame->seq : 0));
    vitals_desc_set_unref(set);
    if (frame)
        vitals_frame_unref(frame);
    if (http->opt.ingest) {
        guint64 records = 0, rejected = 0;
        vitals_ingest_totals(http->opt.ingest, &records, &rejected);
        json_object_set_new(body, "ingest", json_pack("{s:i, s:I, s:I}", "udp_port",
                                                      (int)http->opt.ingest_udp_port, "records",
                                                      (json_int_t)records, "rejected", (json_int_t)rejected));
    }
    return send_json(conn, MHD_HTTP_OK, body);
}

/* Serves a dashboard file from --web-root (development), refusing "..". */
static enum MHD_Result route_web_root(vitals_http *http, struct MHD_Connection *conn, const char *url)
{
    const char *rel = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (strstr(rel, "..") || strchr(rel, '\\'))
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found", url);
    char *path = g_build_filename(http->opt.web_root, rel, NULL);
    char *data = NULL;
    gsize len = 0;
    gboolean ok = g_file_test(path, G_FILE_TEST_IS_REGULAR) && g_file_get_contents(path, &data, &len, NULL);
    g_free(path);
    if (!ok)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found", url);
    enum MHD_Result ret = send_buffer(conn, MHD_HTTP_OK, vitals_asset_content_type(rel), data, len,
                                      MHD_RESPMEM_MUST_COPY);
    g_free(data);
    return ret;
}

static enum MHD_Result route_asset(vitals_http *http, struct MHD_Connection *conn, const char *url)
{
    /* With --web-root the page comes from disk; the charting library, which
     * lives in the build tree's node_modules, still comes from the binary. */
    if (http->opt.web_root && !g_str_has_prefix(url, "/vendor/"))
        return route_web_root(http, conn, url);
    const vitals_asset *asset = vitals_asset_find(url);
    if (!asset)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found", url);
    return send_buffer(conn, MHD_HTTP_OK, asset->content_type, (void *)asset->data, asset->size,
                       MHD_RESPMEM_PERSISTENT);
}

/* ---- WebSocket handshake --------------------------------------------- */

static void release_upgraded(void *arg)
{
    MHD_upgrade_action(arg, MHD_UPGRADE_ACTION_CLOSE);
}

/* The client's "host:port", for logs. */
static void peer_name(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = info ? info->client_addr : NULL;
    socklen_t len = addr && addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                        : sizeof(struct sockaddr_in);
    vitals_net_name(addr, len, out, size);
}

/* Called by MHD once the 101 is on the wire: the socket goes to the hub. */
static void on_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                        size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)req_cls;
    vitals_http *http = cls;
    char peer[INET6_ADDRSTRLEN + 8];
    peer_name(conn, peer, sizeof peer);
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

static enum MHD_Result route_ws(vitals_http *http, struct MHD_Connection *conn)
{
    const char *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_UPGRADE);
    const char *connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION);
    const char *version = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    if (!header_has_token(upgrade, "websocket") || !header_has_token(connection, "upgrade"))
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "expected a WebSocket upgrade request", NULL);
    if (!version || strcmp(version, "13") != 0) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Sec-WebSocket-Version", "13");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_UPGRADE_REQUIRED, r);
        MHD_destroy_response(r);
        return ret;
    }
    char accept[WS_ACCEPT_LEN];
    if (!key || !ws_accept_key(key, accept))
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "missing or malformed Sec-WebSocket-Key", NULL);
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgraded, http);
    if (!r)
        return MHD_NO;
    /* libmicrohttpd adds "Connection: Upgrade" itself. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- POST /api/v1/ingest ---------------------------------------------- */

#define MAX_INGEST_BODY (1024 * 1024)

/* Per-request state, freed by on_request_done whatever happens. */
typedef struct request {
    GByteArray *body;
    gboolean too_big;
} request;

static enum MHD_Result route_ingest(vitals_http *http, struct MHD_Connection *conn, request *req)
{
    if (!http->opt.ingest)
        return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "ingest is turned off in [ingest]", NULL);
    if (req->too_big)
        return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than 1 MiB", NULL);
    char peer[INET6_ADDRSTRLEN + 8], source[INET6_ADDRSTRLEN + 16];
    peer_name(conn, peer, sizeof peer);
    g_snprintf(source, sizeof source, "http %s", peer);
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    char *body = (char *)(req->body ? req->body->data : NULL);
    size_t len = req->body ? req->body->len : 0;
    if (type && g_str_has_prefix(type, "text/plain")) {
        /* StatsD lines, exactly as they would come over UDP. */
        size_t rejected = 0;
        size_t accepted = len ? vitals_ingest_statsd(http->opt.ingest, body, len, source, &rejected) : 0;
        return send_json(conn, MHD_HTTP_OK, json_pack("{s:I, s:I}", "accepted", (json_int_t)accepted,
                                                       "rejected", (json_int_t)rejected));
    }
    const char *why = NULL;
    json_t *answer = vitals_ingest_json(http->opt.ingest, body ? body : "", len, source, &why);
    if (!answer)
        return send_error(conn, MHD_HTTP_BAD_REQUEST, why, NULL);
    return send_json(conn, MHD_HTTP_OK, answer);
}

/* ---- dispatch -------------------------------------------------------- */

typedef enum MHD_Result (*route_fn)(vitals_http *http, struct MHD_Connection *conn);

static const struct route {
    const char *path;
    route_fn get;             /* NULL: the route takes POST (ingest) */
} routes[] = {
    {"/api/v1/descriptors", route_descriptors},
    {"/api/v1/metrics", route_metrics},
    {"/api/v1/history", route_history},
    {"/api/v1/ingest", NULL},
    {"/healthz", route_health},
    {"/metrics", route_prometheus},
    {"/ws", route_ws},
};

static const struct route *find_route(const char *url)
{
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++)
        if (strcmp(url, routes[i].path) == 0)
            return &routes[i];
    return NULL;
}

static enum MHD_Result method_not_allowed(struct MHD_Connection *conn, const char *url, const char *allow)
{
    json_t *body = json_pack("{s:s, s:s}", "error", "method not allowed", "path", url);
    size_t len = 0;
    char *text = vitals_json_dump(body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)version;
    vitals_http *http = cls;
    const struct route *route = find_route(url);
    gboolean is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    gboolean is_ingest = route && !route->get && strcmp(method, "POST") == 0;

    request *req = *req_cls;
    if (!req) {
        /* First call: headers only.  Answer after the body (if any) is in. */
        *req_cls = req = g_new0(request, 1);
        if (!*upload_data_size)
            return MHD_YES;
    }
    if (*upload_data_size) {
        /* Only ingest keeps its body, and only up to the limit. */
        if (is_ingest && !req->too_big) {
            if (!req->body)
                req->body = g_byte_array_new();
            if (req->body->len + *upload_data_size > MAX_INGEST_BODY)
                req->too_big = TRUE;
            else
                g_byte_array_append(req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (!route && g_str_has_prefix(url, "/api/"))
        return send_error(conn, MHD_HTTP_NOT_FOUND, "not found", url);
    if (route && !route->get)
        return is_ingest ? route_ingest(http, conn, req) : method_not_allowed(conn, url, "POST");
    if (!is_get)
        return method_not_allowed(conn, url, "GET, HEAD");
    return route ? route->get(http, conn) : route_asset(http, conn, url);
}

static void on_request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    request *req = *req_cls;
    if (!req)
        return;
    if (req->body)
        g_byte_array_free(req->body, TRUE);
    g_free(req);
    *req_cls = NULL;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char *line = g_strdup_vprintf(fmt, ap);
    vitals_log(VITALS_LOG_WARN, "http", "%s", g_strchomp(line));
    g_free(line);
}

/* ---- the listening socket -------------------------------------------- */

static int listen_on(const char *host, int port, GError **error)
{
    int gai_error = 0;
    int fd = vitals_net_bind(host, port, SOCK_STREAM, &gai_error);
    if (fd >= 0)
        return fd;
    if (gai_error)
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_ADDRESS,
                    "cannot resolve listen address '%s': %s", host, gai_strerror(gai_error));
    else if (errno == EADDRINUSE)
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_IN_USE,
                    "port %d on %s is already in use (is another vitals running? choose "
                    "another with --port)", port, host);
    else
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_BIND,
                    "cannot listen on %s port %d: %s", host, port, g_strerror(errno));
    return -1;
}

vitals_http *vitals_http_start(const vitals_http_options *options, GError **error)
{
    int fd = listen_on(options->listen, options->port, error);
    if (fd < 0)
        return NULL;
    vitals_http *http = g_new0(vitals_http, 1);
    http->opt = *options;
    http->port = vitals_net_port(fd);
    http->started = g_get_monotonic_time();
    gboolean v6 = strchr(options->listen, ':') != NULL;
    http->url = g_strdup_printf("http://%s%s%s:%u/", v6 ? "[" : "", options->listen, v6 ? "]" : "",
                                http->port);
    http->daemon = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_done, NULL,
        /* Half-sent requests die; upgraded sockets are the hub's to time out. */
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        /* Each upgraded socket keeps its pool: keep it small. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16000,
        MHD_OPTION_END);
    if (!http->daemon) {
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_START,
                    "libmicrohttpd could not start on %s", http->url);
        close(fd);
        g_free(http->url);
        g_free(http);
        return NULL;
    }
    return http;
}

uint16_t vitals_http_port(const vitals_http *http) { return http->port; }
const char *vitals_http_url(const vitals_http *http) { return http->url; }

void vitals_http_stop(vitals_http *http)
{
    if (!http)
        return;
    /* Quiescing hands the listening socket back, so it is closed once, here. */
    MHD_socket fd = MHD_quiesce_daemon(http->daemon);
    MHD_stop_daemon(http->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    g_free(http->url);
    g_free(http);
}
