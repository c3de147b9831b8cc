/*
 * main.c — the vitals host: command line, start-up order, shutdown order.
 *
 * Start-up: config file, then command-line overrides, then the registry,
 * the plugins, the WebSocket hub, the HTTP server (which prints the URL
 * once it is listening) and last the sampler.  Shutdown runs the same list
 * backwards on SIGINT or SIGTERM: no more ticks, every WebSocket client gets
 * a close frame, HTTP stops, plugins shut down.  Under systemd (Type=notify)
 * the service manager hears READY=1 with the listening line and
 * STOPPING=1 when shutdown begins.  --list-plugins and --check-config run
 * their tool (cli_tools.c) instead of the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_tools.h"
#include "config.h"
#include "http.h"
#include "ingest.h"
#include "loader.h"
#include "log.h"
#include "net.h"
#include "notify.h"
#include "plugin_helper.h"
#include "registry.h"
#include "registry_json.h"
#include "sampler.h"
#include "tls.h"
#include "watcher.h"
#include "ws_hub.h"

typedef struct cli_options {
    char *config;
    char *host;
    int port;
    double interval;
    char *plugins_dir;
    char *web_root;
    int ingest_port;
    gboolean version;
    gboolean list_plugins;
    char *check_config;
} cli_options;

static void cli_options_clear(cli_options *cli)
{
    g_free(cli->config);
    g_free(cli->host);
    g_free(cli->plugins_dir);
    g_free(cli->web_root);
    g_free(cli->check_config);
}

/* Parses argv; exits 0 for --help, 2 for a usage error. */
static void parse_command_line(int *argc, char ***argv, cli_options *cli)
{
    cli->port = -1;
    cli->interval = -1;
    cli->ingest_port = -1;
    /* The defaults follow the tree the binary was installed in (cli_tools.h). */
    char *config_help = g_strdup_printf("Read FILE (default: %s if it exists)",
                                        vitals_default_config_file());
    char *plugins_help = g_strdup_printf("Load plugins from DIR (default %s)",
                                         vitals_default_plugins_dir());
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &cli->config, config_help, "FILE"},
        {"host", 'H', 0, G_OPTION_ARG_STRING, &cli->host, "Address to listen on (default 127.0.0.1)", "H"},
        {"port", 'p', 0, G_OPTION_ARG_INT, &cli->port, "Port to listen on (default 8765; 0 = any free port)", "P"},
        {"interval", 'i', 0, G_OPTION_ARG_DOUBLE, &cli->interval, "Seconds between samples (default 1.0)", "S"},
        {"plugins-dir", 'd', 0, G_OPTION_ARG_FILENAME, &cli->plugins_dir, plugins_help, "DIR"},
        {"web-root", 0, 0, G_OPTION_ARG_FILENAME, &cli->web_root,
         "Serve the dashboard from DIR instead of the embedded copy (development)", "DIR"},
        {"ingest-port", 0, 0, G_OPTION_ARG_INT, &cli->ingest_port,
         "UDP port for StatsD ingest (default 8125; 0 = any free port)", "P"},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &cli->version, "Print the version and exit", NULL},
        {"list-plugins", 0, 0, G_OPTION_ARG_NONE, &cli->list_plugins,
         "Load the plugins, print each one's version, status and metrics, and exit", NULL},
        {"check-config", 0, 0, G_OPTION_ARG_FILENAME, &cli->check_config,
         "Check FILE and its [plugin:NAME] sections against the plugins' schemas, and exit",
         "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- watch your applications live");
    g_option_context_set_summary(ctx, "A metrics host: loads collector plugins, keeps a rolling "
                                      "history, serves a live dashboard, a JSON API and a WebSocket stream.");
    g_option_context_set_description(ctx, "Command-line options override the config file.\n"
                                          "Docs: docs/protocol.md, conf/vitals.ini.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "vitals: %s (try --help)\n", error->message);
        exit(2);
    }
    g_option_context_free(ctx);
    g_free(config_help);
    g_free(plugins_help);
}

/* Applies the command line over the file, checking the same ranges. */
static gboolean apply_command_line(vitals_config *cfg, const cli_options *cli, GError **error)
{
    if (cli->host) {
        g_free(cfg->listen);
        cfg->listen = g_strdup(cli->host);
    }
    if (cli->port != -1) {
        if (cli->port < 0 || cli->port > 65535) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "--port %d is not a port 0..65535", cli->port);
            return FALSE;
        }
        cfg->port = cli->port;
    }
    if (cli->interval != -1) {
        if (!(cli->interval >= 0.05 && cli->interval <= 3600)) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "--interval %g is not a number of seconds 0.05..3600", cli->interval);
            return FALSE;
        }
        cfg->interval = cli->interval;
    }
    if (cli->ingest_port != -1) {
        if (cli->ingest_port < 0 || cli->ingest_port > 65535) {
            g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                        "--ingest-port %d is not a port 0..65535", cli->ingest_port);
            return FALSE;
        }
        cfg->ingest_port = cli->ingest_port;
    }
    if (cli->plugins_dir) {
        g_free(cfg->plugins_dir);
        cfg->plugins_dir = g_strdup(cli->plugins_dir);
    }
    if (cli->web_root) {
        g_free(cfg->web_root);
        cfg->web_root = g_strdup(cli->web_root);
    }
    return TRUE;
}

/* Descriptors the host needs besides its WebSocket clients: plugins, HTTP
 * requests, ingest, logs. */
#define FD_RESERVE 256

/* Thousands of WebSocket clients need thousands of descriptors: the soft
 * limit goes up to the hard one, and a hard limit below max_clients is said
 * at start rather than discovered as refused connections. */
static void raise_fd_limit(int max_clients)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            vitals_log(VITALS_LOG_WARN, "host", "cannot raise the open-file limit: %s", g_strerror(errno));
            rl.rlim_cur = old;
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max_clients + FD_RESERVE)
        vitals_log(VITALS_LOG_WARN, "host", "[host] max_clients is %d but the open-file limit is %llu: "
                   "WebSocket clients beyond about %llu will be refused; raise the limit "
                   "(ulimit -n, LimitNOFILE=) or lower max_clients", max_clients,
                   (unsigned long long)rl.rlim_cur,
                   rl.rlim_cur > FD_RESERVE ? (unsigned long long)(rl.rlim_cur - FD_RESERVE) : 0ULL);
}

/*
 * Only loopback is safe without a token: anything else may be reachable by
 * other machines.  Returns FALSE with a one-line reason when the host must
 * not start.  A name that does not resolve is left to the bind to report.
 */
static gboolean check_exposure(const vitals_config *cfg, GError **error)
{
    if (cfg->auth_token || vitals_net_is_loopback(cfg->listen) != 0)
        return TRUE;
    if (cfg->allow_anonymous) {
        vitals_log(VITALS_LOG_WARN, "host", "serving %s without a token (allow_anonymous = true): "
                   "anyone who can reach it reads every metric", cfg->listen);
        return TRUE;
    }
    g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE,
                "listen address %s is not loopback: set [host] auth_token (or allow_anonymous = true "
                "to serve it to anyone), or listen on 127.0.0.1", cfg->listen);
    return FALSE;
}

/*
 * SIGINT/SIGTERM/SIGHUP may land on any thread (libraries start their own), so
 * the handler only writes the signal number into a pipe that main() reads.
 */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    ssize_t r = write(stop_pipe[1], &byte, 1);
    (void)r;
    errno = saved;
}

static gboolean catch_stop_signals(void)
{
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return FALSE;
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    struct sigaction ignore = {0};
    ignore.sa_handler = SIG_IGN;
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 &&
           sigaction(SIGHUP, &sa, NULL) == 0 && sigaction(SIGPIPE, &ignore, NULL) == 0;
}

/* Blocks until SIGINT, SIGTERM or SIGHUP arrives; returns its number. */
static int wait_for_signal(void)
{
    struct pollfd pfd = {.fd = stop_pipe[0], .events = POLLIN};
    unsigned char byte = 0;
    for (;;) {
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return SIGTERM;
        if (read(stop_pipe[0], &byte, 1) == 1)
            return byte;
    }
}

/* SIGHUP: reads the config file again and hands it to the sampler, which
 * restarts the plugins whose section changed.  A bad file changes nothing. */
static void reload_config(const char *path, vitals_sampler *sampler)
{
    if (!path) {
        vitals_log(VITALS_LOG_WARN, "host", "SIGHUP: no config file to reload (started without one)");
        return;
    }
    vitals_config *next = g_new0(vitals_config, 1);
    vitals_cli_config_init(next); /* the same defaults as at start */
    GError *error = NULL;
    if (!vitals_config_load(next, path, &error)) {
        vitals_log(VITALS_LOG_ERROR, "host", "SIGHUP: keeping the running config: %s", error->message);
        g_error_free(error);
        vitals_config_clear(next);
        g_free(next);
        return;
    }
    vitals_log(VITALS_LOG_INFO, "host", "SIGHUP: reloading %s ([host] and [ingest] changes need a "
               "restart)", path);
    vitals_sampler_reload(sampler, next);
}

/* The watcher reports plugin files; the sampler, which owns plugins, acts. */
static void on_plugin_file(void *user, const char *file, gboolean removed)
{
    vitals_sampler_plugin_file(user, file, removed);
}

/* What the hub's callbacks need to build per-client messages. */
typedef struct hub_context {
    vitals_registry *registry;
    double interval;
} hub_context;

static char *hub_hello(void *user, size_t *len, uint64_t *seq)
{
    hub_context *ctx = user;
    return vitals_json_hello_text(ctx->registry, ctx->interval, len, seq);
}

static char *hub_metrics(void *user, size_t *len)
{
    hub_context *ctx = user;
    return vitals_json_metrics_text(ctx->registry, len);
}

int main(int argc, char **argv)
{
    /* `vitals --plugin-probe|--plugin-helper FILE`: run one plugin for a
     * host (probe.h, isolate.h), never the host itself. */
    if (vitals_plugin_child_requested(argc, argv))
        return vitals_plugin_child_main(argc, argv);
    /* The binary by name, so a tool that runs the host (valgrind) is not
     * what the children run; /proc/self/exe if the file is gone. */
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    vitals_plugins_set_exe(exe && g_file_test(exe, G_FILE_TEST_IS_EXECUTABLE) ? exe : "/proc/self/exe");
    g_free(exe);
    cli_options cli = {0};
    parse_command_line(&argc, &argv, &cli);
    if (cli.version) {
        printf("vitals %s (plugin ABI %d.%d)\n", VITALS_VERSION, VITALS_PLUGIN_ABI_MAJOR,
               VITALS_PLUGIN_ABI_MINOR);
        return 0;
    }
    if (cli.check_config) {
        int rc = vitals_cli_check_config(cli.check_config, cli.plugins_dir, stdout, stderr);
        cli_options_clear(&cli);
        return rc;
    }

    vitals_config cfg;
    vitals_cli_config_init(&cfg);
    GError *error = NULL;
    const char *config_path = cli.config;
    if (!config_path && g_file_test(vitals_default_config_file(), G_FILE_TEST_EXISTS))
        config_path = vitals_default_config_file();
    if ((config_path && !vitals_config_load(&cfg, config_path, &error)) ||
        !apply_command_line(&cfg, &cli, &error) || (!cli.list_plugins && !check_exposure(&cfg, &error))) {
        fprintf(stderr, "vitals: %s\n", error->message);
        g_error_free(error);
        vitals_config_clear(&cfg);
        cli_options_clear(&cli);
        return 1;
    }
    vitals_log_set_level(cfg.log_level);
    if (cli.list_plugins) {
        int rc = vitals_cli_list_plugins(&cfg, stdout);
        vitals_config_clear(&cfg);
        cli_options_clear(&cli);
        return rc;
    }

    if (!catch_stop_signals()) {
        fprintf(stderr, "vitals: cannot install signal handlers: %s\n", g_strerror(errno));
        vitals_config_clear(&cfg);
        cli_options_clear(&cli);
        return 1;
    }
    raise_fd_limit(cfg.max_clients);

    vitals_log(VITALS_LOG_INFO, "host", "vitals %s starting (config: %s)", VITALS_VERSION,
               config_path ? config_path : "built-in defaults");
    vitals_registry *reg = vitals_registry_new((unsigned)cfg.history);
    vitals_router *router = cfg.ingest_enabled ? vitals_router_new() : NULL;
    vitals_ingest_sink *sink = router ? vitals_ingest_sink_new(router, reg) : NULL;
    vitals_plugins *plugins = vitals_plugins_load(cfg.plugins_dir, &cfg, reg, router, cfg.interval);
    vitals_ingest_udp *udp = NULL;

    hub_context hub_ctx = {.registry = reg, .interval = cfg.interval};
    vitals_hub_callbacks callbacks = {.user = &hub_ctx, .hello = hub_hello, .metrics = hub_metrics};
    vitals_hub_options hub_options = {.max_message = (size_t)cfg.ws_max_message,
                                      .max_queue_bytes = 1024 * 1024,
                                      .ping_interval = cfg.ping_interval,
                                      .max_clients = (unsigned)cfg.max_clients,
                                      .send_timeout = cfg.send_timeout};
    vitals_hub *hub = vitals_hub_new(&callbacks, &hub_options);
    vitals_http *http = NULL;
    vitals_tls *tls = NULL;
    vitals_sampler *sampler = NULL;
    vitals_watcher *watcher = NULL;
    gint plugins_running = (gint)vitals_plugins_running(plugins);
    int status = 1;
    if (!vitals_tls_load(&cfg, &tls, &error))
        goto out;
    if (sink && !(udp = vitals_ingest_udp_start(cfg.ingest_listen, cfg.ingest_port, sink, &error)))
        goto out;
    if (!vitals_hub_start(hub, &error))
        goto out;
    vitals_http_options http_options = {.listen = cfg.listen, .port = cfg.port,
                                        .web_root = cfg.web_root, .interval = cfg.interval,
                                        .registry = reg, .hub = hub,
                                        .plugins_running = &plugins_running,
                                        .ingest = sink, .ingest_udp_port = vitals_ingest_udp_port(udp),
                                        .auth_token = cfg.auth_token,
                                        .allowed_origins = cfg.allowed_origins,
                                        .http_timeout = (unsigned)cfg.http_timeout,
                                        .max_clients = (unsigned)cfg.max_clients, .tls = tls};
    http = vitals_http_start(&http_options, &error);
    if (!http)
        goto out;
    sampler = vitals_sampler_start(cfg.interval, reg, plugins, hub, &cfg, &plugins_running, &error);
    if (!sampler)
        goto out;
    GError *watch_error = NULL;
    watcher = vitals_watcher_start(cfg.plugins_dir, on_plugin_file, sampler, &watch_error);
    if (!watcher) {
        vitals_log(VITALS_LOG_WARN, "host", "%s: plugins dropped in will load only after a restart",
                   watch_error->message);
        g_error_free(watch_error);
    }

    printf("vitals listening on %s\n", vitals_http_url(http));
    fflush(stdout);
    vitals_notify_ready();
    int sig;
    while ((sig = wait_for_signal()) == SIGHUP)
        reload_config(config_path, sampler);
    vitals_notify_stopping();
    vitals_log(VITALS_LOG_INFO, "host", "%s received, shutting down", strsignal(sig));
    status = 0;

out:
    if (error) {
        fprintf(stderr, "vitals: %s\n", error->message);
        g_error_free(error);
    }
    vitals_ingest_udp_stop(udp);
    vitals_watcher_stop(watcher);
    vitals_sampler_stop(sampler);
    vitals_hub_stop(hub, 0.5);
    vitals_http_stop(http);
    vitals_tls_free(tls);
    vitals_hub_free(hub);
    vitals_plugins_shutdown(plugins);
    vitals_ingest_sink_free(sink);
    vitals_router_free(router);
    vitals_registry_free(reg);
    vitals_config_clear(&cfg);
    cli_options_clear(&cli);
    return status;
}
