/*
 * plugin_helper.c — the child side of probes and isolated plugins; see
 * plugin_helper.h and docs/plugin-sdk.md ("Isolated plugins").
 *
 * The helper gives its one plugin a host-API table of its own: a metric is
 * checked against a private registry (so a bad descriptor is refused here
 * with the host's own reason), then announced to the host with a small
 * handle, and values travel as frames that are buffered during collect()
 * and sent when it returns, with DONE.  Logs go at once.  Children end with
 * _exit(): the plugin's atexit handlers and leak checks are not the host's
 * business, and a probe must not run plugin code it was not asked to.
 */
#include "plugin_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "pipe_proto.h"

/* ---- the helper's host API --------------------------------------------------- */

/* One helper hosts one plugin, so its link to the host is process-wide;
 * the lock orders calls from threads the plugin may start. */
static struct {
    GMutex lock;
    int out_fd;
    GByteArray *out;
    vitals_registry *scratch; /* validates descriptors as the host would */
    guint32 metrics;
    gboolean limit_logged;
    double interval;
    long host_pid;
} hl;

/* Writes everything buffered; a host that went away ends the helper. */
static void flush_locked(void)
{
    guint8 *p = hl.out->data;
    gsize left = hl.out->len;
    while (left) {
        ssize_t n = write(hl.out_fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* the host is gone or closed the pipe: nothing to report to */
        p += n;
        left -= (gsize)n;
    }
    g_byte_array_set_size(hl.out, 0);
}

static void send_msg(const vitals_pipe_msg *msg, gboolean now)
{
    g_mutex_lock(&hl.lock);
    vitals_pipe_encode(hl.out, msg);
    if (now || hl.out->len >= 32 * 1024)
        flush_locked();
    g_mutex_unlock(&hl.lock);
}

static vitals_loaded_plugin *host_side(vitals_plugin *p) { return (vitals_loaded_plugin *)p; }

static void helper_logv(vitals_log_level level, const char *fmt, va_list ap)
{
    char *text = g_strdup_vprintf(fmt, ap);
    send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_LOG, .level = (uint32_t)level, .text = text}, TRUE);
    g_free(text);
}

static void helper_log_line(vitals_log_level level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void helper_log_line(vitals_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    helper_logv(level, fmt, ap);
    va_end(ap);
}

/* Handles are 1-based numbers disguised as pointers: NULL stays "none". */
static vitals_metric *helper_metric_register(vitals_plugin *p, const vitals_metric_desc *desc)
{
    vitals_loaded_plugin *lp = host_side(p);
    if (!desc) {
        helper_log_line(VITALS_LOG_WARN, "metric_register(NULL) refused");
        return NULL;
    }
    vitals_metric_desc copy = {0};
    size_t known = lp->info ? vitals_metric_desc_size(lp->info->abi_minor) : sizeof copy;
    memcpy(&copy, desc, known);
    g_mutex_lock(&hl.lock);
    guint32 handle = hl.metrics;
    gboolean full = handle >= VITALS_PLUGIN_MAX_METRICS, first = full && !hl.limit_logged;
    hl.limit_logged |= full;
    g_mutex_unlock(&hl.lock);
    if (full) {
        if (first)
            helper_log_line(VITALS_LOG_WARN, "metric '%s' refused: a plugin may register at most "
                            "%d metrics; every further one is refused too (said once)",
                            copy.id ? copy.id : "(null)", VITALS_PLUGIN_MAX_METRICS);
        return NULL;
    }
    GError *error = NULL;
    if (!vitals_registry_add(hl.scratch, lp->name, &copy, &error)) {
        helper_log_line(VITALS_LOG_WARN, "%s", error->message);
        g_error_free(error);
        return NULL;
    }
    g_mutex_lock(&hl.lock);
    handle = hl.metrics++;
    g_mutex_unlock(&hl.lock);
    send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_DESC, .handle = handle, .desc = copy}, FALSE);
    return (vitals_metric *)(uintptr_t)(handle + 1);
}

static void send_value(vitals_metric *m, vitals_pipe_type type, double number, const char *text)
{
    if (!m)
        return;
    send_msg(&(vitals_pipe_msg){.type = type, .handle = (uint32_t)((uintptr_t)m - 1),
                                .number = number, .text = text}, FALSE);
}

static void helper_metric_set(vitals_metric *m, double v) { send_value(m, VITALS_PIPE_SET, v, NULL); }
static void helper_metric_add(vitals_metric *m, double v) { send_value(m, VITALS_PIPE_ADD, v, NULL); }
static void helper_metric_observe(vitals_metric *m, double v) { send_value(m, VITALS_PIPE_OBSERVE, v, NULL); }
static void helper_metric_set_text(vitals_metric *m, const char *t) { send_value(m, VITALS_PIPE_TEXT, 0, t); }
static void helper_metric_clear(vitals_metric *m) { send_value(m, VITALS_PIPE_CLEAR, 0, NULL); }

static void helper_log(vitals_plugin *p, vitals_log_level level, const char *fmt, ...)
{
    (void)p;
    va_list ap;
    va_start(ap, fmt);
    helper_logv(level, fmt, ap);
    va_end(ap);
}

static double helper_interval(vitals_plugin *p)
{
    (void)p;
    return hl.interval;
}

/* The host's pid, not the helper's: "the watched process" stays the host. */
static long helper_host_pid(vitals_plugin *p)
{
    (void)p;
    return hl.host_pid;
}

static int helper_subscribe(vitals_plugin *p, const char *name, vitals_record_fn on_record)
{
    (void)on_record;
    helper_log(p, VITALS_LOG_WARN, "subscribe('%s'): an isolated plugin receives no ingest "
               "records; run it in-process (isolate = false) to subscribe", name ? name : "(null)");
    return -1;
}

static const vitals_host_api helper_api = {
    .abi_major = VITALS_PLUGIN_ABI_MAJOR,
    .abi_minor = VITALS_PLUGIN_ABI_MINOR,
    .struct_size = sizeof(vitals_host_api),
    .metric_register = helper_metric_register,
    .metric_set = helper_metric_set,
    .metric_add = helper_metric_add,
    .metric_observe = helper_metric_observe,
    .metric_set_text = helper_metric_set_text,
    .metric_clear = helper_metric_clear,
    .log = helper_log,
    .set_error = vitals_plugin_set_error,
    .interval = helper_interval,
    .host_pid = helper_host_pid,
    .subscribe = helper_subscribe,
};

/* ---- the modes -------------------------------------------------------------- */

gboolean vitals_plugin_child_requested(int argc, char **argv)
{
    return argc > 1 && (strcmp(argv[1], VITALS_PROBE_FLAG) == 0 || strcmp(argv[1], VITALS_HELPER_FLAG) == 0);
}

/* Closes every descriptor but stdio: the child must not hold the host's
 * sockets open (a listening port would outlive the host). */
static void close_inherited(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
        return;
#endif
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
}

/* Reads frames from the host and runs collect() for each COLLECT until
 * QUIT or the end of the pipe. */
static void serve(vitals_loaded_plugin *lp)
{
    vitals_pipe_decoder *dec = g_new(vitals_pipe_decoder, 1);
    vitals_pipe_decoder_init(dec);
    for (;;) {
        size_t room = 0;
        unsigned char *at = vitals_pipe_decoder_space(dec, &room);
        ssize_t n = read(0, at, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        vitals_pipe_decoder_wrote(dec, (size_t)n);
        vitals_pipe_msg msg;
        const char *why = NULL;
        int r;
        while ((r = vitals_pipe_decoder_next(dec, &msg, &why)) == 1) {
            if (msg.type == VITALS_PIPE_COLLECT) {
                if (lp->info->collect)
                    lp->info->collect(&lp->pub);
                send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_DONE}, TRUE);
            } else if (msg.type == VITALS_PIPE_QUIT) {
                g_free(dec);
                return;
            }
        }
        if (r < 0)
            break;
    }
    g_free(dec);
}

int vitals_plugin_child_main(int argc, char **argv)
{
    gboolean helper = strcmp(argv[1], VITALS_HELPER_FLAG) == 0;
    close_inherited();
    /* A probe dies with the host thread that waits for it (a hung probe of
     * a killed host must not linger).  A helper instead notices the end of
     * its stdin, so that it can still run the plugin's shutdown(). */
    if (!helper)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (helper) {
        /* The pipe is stdout; the plugin's printf() must not land in it. */
        hl.out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
        dup2(2, 1);
    }
    const char *path = argc > 2 ? argv[2] : NULL, *config_path = NULL;
    hl.interval = VITALS_DEFAULT_INTERVAL;
    hl.host_pid = (long)getppid();
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--interval") == 0)
            hl.interval = g_ascii_strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--config") == 0)
            config_path = argv[i + 1];
        else if (strcmp(argv[i], "--host-pid") == 0)
            hl.host_pid = strtol(argv[i + 1], NULL, 10);
    }
    hl.out = g_byte_array_new();
    if (!path || (helper && hl.out_fd < 0)) {
        fprintf(stderr, "vitals: %s FILE.so [--interval S] [--config FILE]\n", argv[1]);
        return 2;
    }
    vitals_config cfg;
    vitals_config_init(&cfg);
    GError *error = NULL;
    if (config_path && !vitals_config_load(&cfg, config_path, &error)) {
        if (helper)
            send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_FAIL, .text = error->message}, TRUE);
        _exit(VITALS_CHILD_REFUSED);
    }
    /* The host logs what matters; the helper's own loader keeps to warnings. */
    vitals_log_set_level(MIN(cfg.log_level, VITALS_LOG_WARN));
    hl.scratch = vitals_registry_new(2);
    vitals_registry *reg = vitals_registry_new(2);
    vitals_router *router = vitals_router_new();
    char *dir = g_path_get_dirname(path), *file = g_path_get_basename(path);
    vitals_plugins *ps = vitals_plugins_new(dir, reg, router, hl.interval,
                                            helper ? &helper_api : NULL, TRUE);
    const vitals_loaded_plugin *loaded = vitals_plugins_reload(ps, file, &cfg);
    vitals_loaded_plugin *lp = (vitals_loaded_plugin *)loaded;
    if (lp->status != VITALS_PLUGIN_RUNNING) {
        if (helper)
            send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_FAIL,
                                        .text = lp->error ? lp->error : "disabled in the config"}, TRUE);
        _exit(VITALS_CHILD_REFUSED);
    }
    if (!helper) {
        if (lp->info->collect)
            lp->info->collect(&lp->pub);
        _exit(VITALS_CHILD_OK);
    }
    send_msg(&(vitals_pipe_msg){.type = VITALS_PIPE_HELLO, .text = lp->info->version}, TRUE);
    serve(lp);
    if (lp->info->shutdown)
        lp->info->shutdown(&lp->pub);
    g_mutex_lock(&hl.lock);
    flush_locked();
    g_mutex_unlock(&hl.lock);
    _exit(0);
}
