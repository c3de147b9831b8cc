/*
 * http.c — routes of the HTTP API on libmicrohttpd.
 *
 * The listening socket is made here, not by libmicrohttpd, so that "port in
 * use" is one clear error and port 0 reports the port it got.  Handlers
 * answer from immutable frames and history copies, never holding the
 * registry lock while writing.
 *
 * Two ways in, chosen once at start:
 *   - plain HTTP: the host's accept loop (http_accept.c) owns the listening
 *     socket, answers `GET /ws` handshakes itself and gives every other
 *     connection to libmicrohttpd (MHD_USE_NO_LISTEN_SOCKET), so that a
 *     WebSocket never holds a libmicrohttpd connection and its memory pool;
 *   - TLS: the bytes cannot be peeked, so libmicrohttpd listens and
 *     upgrades WebSockets itself (http_ws.c), as docs/tls.md describes.
 *
 * Every request passes one gate as soon as its headers are in, before any
 * body is read: the token (when [host] auth_token is set) on /api/,
 * /metrics and /ws, then the query parameters the route reads (each at most
 * once, with a value), then, for ingest, the announced body size.  The
 * dashboard page, its assets and /healthz need no token: they hold no data,
 * and the page must load to read ?token= from its own URL.  libmicrohttpd
 * bounds the rest: a connection's memory (request line and headers, 431 or
 * 414 beyond it) and how long a connection may sit idle or half-sent.
 * http_reply.c builds every answer; http_ws.c decides WebSocket handshakes.
 */
#include "http.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assets.h"
#include "auth.h"
#include "http_private.h"
#include "ingest_json.h"
#include "log.h"
#include "net.h"
#include "prometheus.h"
#include "registry_json.h"
#include "tls.h"

G_DEFINE_QUARK(vitals-http-error-quark, vitals_http_error)

/* What one connection's memory pool may hold: the request line and headers
 * (a longer request is refused with 414 or 431; the host's own handshake
 * path has the same bound, VITALS_HTTP_HEAD_MAX) and, for a WebSocket
 * libmicrohttpd upgrades (TLS), the pool it keeps for life.  Browsers send
 * 1-2 KiB of headers. */
#define CONNECTION_MEMORY (16 * 1024)
/* Connections beyond max_clients for plain HTTP (API calls, scrapes, page loads). */
#define HTTP_CONNECTIONS 1024

/* ---- responses ------------------------------------------------------- */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *json)
{
    return vitals_http_reply_json(conn, status, json, NULL, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
                                  const char *message, const char *url)
{
    return vitals_http_reply_error(conn, status, message, url);
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
    enum MHD_Result ret = vitals_http_reply(conn, MHD_HTTP_OK,
                                            openmetrics ? VITALS_OPENMETRICS_TYPE
                                                        : VITALS_PROMETHEUS_TEXT_TYPE,
                                            text, len, MHD_RESPMEM_MUST_COPY, NULL, NULL);
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
        /* A plain decimal: strtod alone would also take blanks, hex and "inf". */
        gboolean plain =
            (g_ascii_isdigit(seconds[0]) || (seconds[0] == '.' && g_ascii_isdigit(seconds[1]))) &&
            strspn(seconds, "0123456789.eE+-") == strlen(seconds);
        if (!plain || *end || !isfinite(s) || s <= 0)
            return send_error(conn, MHD_HTTP_BAD_REQUEST,
                              "'seconds' must be a positive number", NULL);
        since = g_get_real_time() / 1e6 - s;
    }
    vitals_history *h = vitals_registry_history_of(http->opt.registry, metric, since, 0);
    if (!h)
        return send_error(conn, MHD_HTTP_NOT_FOUND, "unknown metric", metric);
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
    enum MHD_Result ret = vitals_http_reply(conn, MHD_HTTP_OK, vitals_asset_content_type(rel), data,
                                            len, MHD_RESPMEM_MUST_COPY, NULL, NULL);
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
    const char *if_none_match =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return vitals_http_reply_file(conn, asset->content_type, asset->data, asset->size,
                                  vitals_asset_etag(asset),
                                  vitals_asset_etag_matches(asset, if_none_match));
}

/* ---- POST /api/v1/ingest ---------------------------------------------- */

#define MAX_INGEST_BODY (1024 * 1024)

static enum MHD_Result route_ingest(vitals_http *http, struct MHD_Connection *conn,
                                    vitals_http_request *req)
{
    if (!http->opt.ingest)
        return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "ingest is turned off in [ingest]", NULL);
    if (req->too_big)
        return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than 1 MiB", NULL);
    char peer[INET6_ADDRSTRLEN + 8], source[INET6_ADDRSTRLEN + 16];
    vitals_http_peer(conn, peer, sizeof peer);
    g_snprintf(source, sizeof source, "http %s", peer);
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    char *body = (char *)(req->body ? req->body->data : NULL);
    size_t len = req->body ? req->body->len : 0;
    if (type && g_str_has_prefix(type, "text/plain")) {
        /* StatsD lines, exactly as they would come over UDP. */
        size_t rejected = 0;
        char nothing[1] = ""; /* an empty body is refused once, like an empty datagram */
        size_t accepted = vitals_ingest_statsd(http->opt.ingest, body ? body : nothing, len, source,
                                               &rejected);
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

/* The two routes with handlers of their own (a body; an upgrade). */
#define INGEST_PATH "/api/v1/ingest"
#define WS_PATH "/ws"

static const char *const no_params[] = {NULL};
static const char *const history_params[] = {"metric", "seconds", NULL};

static const struct route {
    const char *path;
    route_fn get;               /* NULL: ingest (POST) or /ws (its own handler) */
    gboolean needs_token;       /* when [host] auth_token is set */
    const char *const *params;  /* the query parameters it reads */
} routes[] = {
    {"/api/v1/descriptors", route_descriptors, TRUE, no_params},
    {"/api/v1/metrics", route_metrics, TRUE, no_params},
    {"/api/v1/history", route_history, TRUE, history_params},
    {INGEST_PATH, NULL, TRUE, no_params},
    {"/healthz", route_health, FALSE, no_params},
    {"/metrics", route_prometheus, TRUE, no_params},
    {WS_PATH, NULL, TRUE, no_params},
};

static gboolean route_is(const struct route *route, const char *path)
{
    return route && strcmp(route->path, path) == 0;
}

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
    return vitals_http_reply_json(conn, MHD_HTTP_METHOD_NOT_ALLOWED, body, MHD_HTTP_HEADER_ALLOW, allow);
}

/* Walks the query once, for check_query. */
typedef struct query_check {
    const char *const *params;
    guint seen[8];     /* occurrences of params[i] */
    const char *bad;   /* the first parameter found wrong */
    const char *why;
} query_check;

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_check *q = cls;
    for (size_t i = 0; q->params[i] && i < G_N_ELEMENTS(q->seen); i++) {
        if (strcmp(key, q->params[i]) != 0)
            continue;
        q->seen[i]++;
        if (!value)
            q->why = "needs a value (name=value)";
        else if (q->seen[i] > 1)
            q->why = "is given more than once";
        else if (!g_utf8_validate(value, -1, NULL))
            q->why = "is not UTF-8 text";
        if (q->why) {
            q->bad = q->params[i];
            return MHD_NO; /* stop at the first fault */
        }
    }
    return MHD_YES;
}

/* 400 unless each parameter in `params` (and `token`) appears at most once,
 * with a UTF-8 value; other parameters are ignored.  MHD_YES with *answered
 * FALSE when the query is fine. */
static enum MHD_Result check_query(struct MHD_Connection *conn, const char *const *params,
                                   gboolean *answered)
{
    static const char *const token_only[] = {"token", NULL};
    query_check q = {.params = params};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param, &q);
    if (!q.bad) {
        query_check t = {.params = token_only};
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param, &t);
        q = t;
    }
    *answered = q.bad != NULL;
    if (!q.bad)
        return MHD_YES;
    char *message = g_strdup_printf("query parameter '%s' %s", q.bad, q.why);
    enum MHD_Result ret = send_error(conn, MHD_HTTP_BAD_REQUEST, message, NULL);
    g_free(message);
    return ret;
}

/*
 * The gate, run once the headers are in and before any body is read: the
 * token, the query, and the announced size of an ingest body.  Returns TRUE
 * when it answered (*ret holds MHD's result).
 */
static gboolean refuse_early(vitals_http *http, struct MHD_Connection *conn, const char *url,
                             const struct route *route, enum MHD_Result *ret)
{
    gboolean needs_token = route ? route->needs_token : g_str_has_prefix(url, "/api/");
    if (needs_token && http->opt.auth_token) {
        const char *authorization =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
        if (!vitals_auth_check(http->opt.auth_token, authorization, token)) {
            json_t *body = json_pack("{s:s}", "error", VITALS_HTTP_TOKEN_NEEDED);
            *ret = vitals_http_reply_json(conn, MHD_HTTP_UNAUTHORIZED, body,
                                          MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                          VITALS_HTTP_TOKEN_CHALLENGE);
            return TRUE;
        }
    }
    gboolean answered = FALSE;
    *ret = check_query(conn, route ? route->params : no_params, &answered);
    if (answered)
        return TRUE;
    if (route_is(route, INGEST_PATH)) {
        /* Refuse an announced oversized body now rather than read 1 MiB of it. */
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && g_ascii_strtoull(length, NULL, 10) > MAX_INGEST_BODY) {
            *ret = send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than 1 MiB", NULL);
            return TRUE;
        }
    }
    return FALSE;
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
    gboolean is_ingest = route_is(route, INGEST_PATH) && strcmp(method, "POST") == 0;

    vitals_http_request *req = *req_cls;
    if (!req) {
        /* First call: headers only.  Answer after the body (if any) is in,
         * unless the gate refuses the request now. */
        *req_cls = req = g_new0(vitals_http_request, 1);
        enum MHD_Result ret;
        if (refuse_early(http, conn, url, route, &ret))
            return ret;
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
    if (route_is(route, INGEST_PATH))
        return is_ingest ? route_ingest(http, conn, req) : method_not_allowed(conn, url, "POST");
    if (!is_get)
        return method_not_allowed(conn, url, "GET, HEAD");
    if (route_is(route, WS_PATH))
        return vitals_http_route_ws(http, conn, req);
    return route ? route->get(http, conn) : route_asset(http, conn, url);
}

static void on_request_done(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode code)
{
    (void)conn;
    (void)code;
    vitals_http *http = cls;
    vitals_http_request *req = *req_cls;
    if (!req)
        return;
    if (req->ws_slot) /* the 101 never went out: the hub never got the socket */
        vitals_hub_unreserve(http->opt.hub);
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
    http->url = g_strdup_printf("%s://%s%s%s:%u/", options->tls ? "https" : "http", v6 ? "[" : "",
                                options->listen, v6 ? "]" : "", http->port);
    http->allowed_origins = vitals_auth_parse_origins(options->allowed_origins);
    if (!http->opt.max_clients)
        http->opt.max_clients = 10000;
    /* Who listens: libmicrohttpd with TLS, else the accept loop (see the top). */
    gboolean mhd_listens = options->tls != NULL;
    struct MHD_OptionItem listen_option[] = {
        {mhd_listens ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, fd, NULL},
        {MHD_OPTION_END, 0, NULL}};
    http->daemon = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG | vitals_tls_flags(options->tls) |
            (mhd_listens ? 0 : MHD_USE_NO_LISTEN_SOCKET),
        0, NULL, NULL, handle_request, http,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_ARRAY, listen_option,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_done, http,
        /* Idle and half-sent requests die; upgraded sockets are the hub's to time out. */
        MHD_OPTION_CONNECTION_TIMEOUT, options->http_timeout > 0 ? options->http_timeout : 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        /* Sockets libmicrohttpd upgrades count here too; the hub caps WebSockets itself. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(http->opt.max_clients + HTTP_CONNECTIONS),
        /* The certificate and key (tls.c), or nothing for plain HTTP. */
        MHD_OPTION_ARRAY, vitals_tls_options(options->tls),
        MHD_OPTION_END);
    if (!http->daemon) {
        g_set_error(error, VITALS_HTTP_ERROR, VITALS_HTTP_ERROR_START,
                    "libmicrohttpd could not start on %s", http->url);
    } else if (!mhd_listens && !(http->acceptor = vitals_http_accept_start(http, fd, error))) {
        MHD_stop_daemon(http->daemon);
    } else {
        return http; /* the socket is libmicrohttpd's or the accept loop's now */
    }
    close(fd);
    g_strfreev(http->allowed_origins);
    g_free(http->url);
    g_free(http);
    return NULL;
}

uint16_t vitals_http_port(const vitals_http *http) { return http->port; }
const char *vitals_http_url(const vitals_http *http) { return http->url; }

void vitals_http_stop(vitals_http *http)
{
    if (!http)
        return;
    if (http->acceptor) {
        /* No new connection reaches libmicrohttpd after this. */
        vitals_http_accept_stop(http->acceptor);
        MHD_stop_daemon(http->daemon);
    } else {
        /* Quiescing hands the listening socket back, so it is closed once, here. */
        MHD_socket fd = MHD_quiesce_daemon(http->daemon);
        MHD_stop_daemon(http->daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
    g_strfreev(http->allowed_origins);
    g_free(http->url);
    g_free(http);
}
