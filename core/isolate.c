/*
 * isolate.c — the host's side of an isolated plugin; see isolate.h.
 *
 * Threads: the sampler starts helpers, asks for collects and restarts the
 * dead; one reader thread per helper reads its pipe, applies what arrives
 * to the registry through the ordinary plugin API (so the same checks and
 * limits hold), reaps the helper when the pipe closes and schedules the
 * restart.  `lock` guards the fields both touch; the reader never holds it
 * while calling the supervisor (whose lock comes first).
 */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "pipe_proto.h"
#include "plugin_helper.h"
#include "supervisor.h"

extern char **environ;

struct vitals_isolated {
    vitals_loaded_plugin *lp;
    char *exe, *config_path;
    double interval, init_timeout;

    GMutex lock;
    pid_t pid;            /* 0 while no helper runs          */
    int to_fd;            /* its stdin; -1 while none         */
    GThread *reader;      /* joined before the next start     */
    gboolean up;          /* HELLO came: init succeeded       */
    gboolean down;        /* the reader has reaped the helper */
    gboolean failed;      /* init failed: no more restarts    */
    gboolean stopping;    /* the host is stopping it          */
    char *kill_reason;    /* why the host killed it, if it did */
    gint64 spawned_at, restart_at;
    vitals_backoff backoff;
    guint starts;
};

/* What one reader thread keeps about its helper. */
typedef struct reader_state {
    vitals_isolated *iso;
    pid_t pid;
    int from_fd;
    GPtrArray *map;       /* helper handle -> plugin handle (NULL: refused) */
    GHashTable *mapped;   /* plugin handles mapped by this helper */
    gsize bytes;          /* since the last collect request was answered */
    guint logs;
    vitals_pipe_decoder dec;
} reader_state;

/* ---- starting --------------------------------------------------------------- */

static gpointer reader_thread(gpointer data);

/* Spawns a helper with its stdin and stdout on two new pipes. */
static gboolean spawn_helper(vitals_isolated *iso, pid_t *pid, int *to_fd, int *from_fd)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return FALSE;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return FALSE;
    }
    char interval[G_ASCII_DTOSTR_BUF_SIZE], host_pid[32];
    g_ascii_dtostr(interval, sizeof interval, iso->interval);
    g_snprintf(host_pid, sizeof host_pid, "%ld", (long)getpid());
    const char *argv[] = {iso->exe, VITALS_HELPER_FLAG, iso->lp->path, "--interval", interval,
                          "--host-pid", host_pid, iso->config_path ? "--config" : NULL,
                          iso->config_path, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    int rc = posix_spawn(pid, iso->exe, &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        errno = rc;
        return FALSE;
    }
    /* The sampler must never block on a helper that does not read. */
    fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    *to_fd = in[1];
    *from_fd = out[0];
    return TRUE;
}

/* Starts a helper now; on failure schedules a retry.  Sampler thread. */
static void start_helper(vitals_isolated *iso)
{
    if (iso->reader) { /* the previous helper's reader has finished */
        g_thread_join(iso->reader);
        iso->reader = NULL;
    }
    pid_t pid = 0;
    int to_fd = -1, from_fd = -1;
    gint64 now = g_get_monotonic_time();
    if (!spawn_helper(iso, &pid, &to_fd, &from_fd)) {
        double delay = vitals_backoff_failure(&iso->backoff, 0);
        vitals_log(VITALS_LOG_ERROR, "isolate", "plugin %s: cannot start a helper process (%s); "
                   "trying again in %g s", iso->lp->name, g_strerror(errno), delay);
        g_mutex_lock(&iso->lock);
        iso->down = TRUE;
        iso->restart_at = now + (gint64)(delay * G_USEC_PER_SEC);
        g_mutex_unlock(&iso->lock);
        return;
    }
    reader_state *rs = g_new0(reader_state, 1);
    rs->iso = iso;
    rs->pid = pid;
    rs->from_fd = from_fd;
    rs->map = g_ptr_array_new();
    rs->mapped = g_hash_table_new(g_direct_hash, g_direct_equal);
    vitals_pipe_decoder_init(&rs->dec);
    g_mutex_lock(&iso->lock);
    iso->pid = pid;
    iso->to_fd = to_fd;
    iso->up = FALSE;
    iso->down = FALSE;
    g_clear_pointer(&iso->kill_reason, g_free);
    iso->spawned_at = now;
    iso->starts++;
    g_mutex_unlock(&iso->lock);
    vitals_supervisor_set_state(iso->lp, VITALS_STATE_STARTING, VITALS_LOG_DEBUG, NULL);
    vitals_log(VITALS_LOG_DEBUG, "isolate", "plugin %s: helper pid %d started", iso->lp->name, (int)pid);
    iso->reader = g_thread_new("vitals-isolate", reader_thread, rs);
}

vitals_isolated *vitals_isolate_start(vitals_loaded_plugin *lp, const vitals_probe_options *o)
{
    vitals_isolated *iso = g_new0(vitals_isolated, 1);
    iso->lp = lp;
    iso->exe = g_strdup(o->exe);
    iso->config_path = g_strdup(o->config_path);
    iso->interval = o->interval;
    iso->init_timeout = o->timeout;
    iso->to_fd = -1;
    g_mutex_init(&iso->lock);
    vitals_backoff_init(&iso->backoff, VITALS_BACKOFF_INITIAL, VITALS_BACKOFF_MAX, VITALS_BACKOFF_RESET);
    lp->iso = iso;
    start_helper(iso);
    return iso;
}

/* ---- the sampler's side ------------------------------------------------------ */

void vitals_isolate_maintain(vitals_isolated *iso, gint64 now)
{
    g_mutex_lock(&iso->lock);
    gboolean due = iso->down && !iso->failed && !iso->stopping && now >= iso->restart_at;
    gboolean slow_init = !iso->down && !iso->up && iso->pid &&
                         now - iso->spawned_at > (gint64)(iso->init_timeout * G_USEC_PER_SEC);
    g_mutex_unlock(&iso->lock);
    if (due) {
        vitals_log(VITALS_LOG_INFO, "isolate", "plugin %s: restarting its helper", iso->lp->name);
        start_helper(iso);
    } else if (slow_init) {
        char *why = g_strdup_printf("init did not finish within %g s", iso->init_timeout);
        vitals_isolate_kill(iso, why);
        g_free(why);
    }
}

gboolean vitals_isolate_ready(vitals_isolated *iso)
{
    g_mutex_lock(&iso->lock);
    gboolean ready = iso->up && !iso->down && iso->to_fd >= 0;
    g_mutex_unlock(&iso->lock);
    return ready;
}

/* Writes one small frame without blocking; FALSE if it did not go whole. */
static gboolean send_frame(vitals_isolated *iso, vitals_pipe_type type)
{
    GByteArray *frame = g_byte_array_new();
    vitals_pipe_encode(frame, &(vitals_pipe_msg){.type = type});
    g_mutex_lock(&iso->lock);
    ssize_t n = iso->to_fd >= 0 ? write(iso->to_fd, frame->data, frame->len) : -1;
    g_mutex_unlock(&iso->lock);
    gboolean ok = n == (ssize_t)frame->len;
    g_byte_array_free(frame, TRUE);
    return ok;
}

gboolean vitals_isolate_request_collect(vitals_isolated *iso)
{
    return send_frame(iso, VITALS_PIPE_COLLECT);
}

void vitals_isolate_kill(vitals_isolated *iso, const char *why)
{
    g_mutex_lock(&iso->lock);
    if (iso->pid && !iso->down && !iso->kill_reason) {
        iso->kill_reason = g_strdup(why);
        kill(iso->pid, SIGKILL); /* the reader reaps it and schedules the restart */
    }
    g_mutex_unlock(&iso->lock);
}

void vitals_isolate_stop(vitals_isolated *iso)
{
    if (!iso)
        return;
    g_mutex_lock(&iso->lock);
    iso->stopping = TRUE;
    g_mutex_unlock(&iso->lock);
    send_frame(iso, VITALS_PIPE_QUIT);
    /* A well-behaved helper runs shutdown() and exits at once. */
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    for (;;) {
        g_mutex_lock(&iso->lock);
        gboolean gone = iso->down || !iso->pid;
        g_mutex_unlock(&iso->lock);
        if (gone)
            break;
        if (g_get_monotonic_time() > deadline) {
            vitals_isolate_kill(iso, "it did not exit within 2 s of being asked to");
            break;
        }
        g_usleep(10000);
    }
    if (iso->reader)
        g_thread_join(iso->reader);
    if (iso->to_fd >= 0)
        close(iso->to_fd);
    iso->lp->iso = NULL;
    g_mutex_clear(&iso->lock);
    g_free(iso->kill_reason);
    g_free(iso->exe);
    g_free(iso->config_path);
    g_free(iso);
}

/* ---- the reader thread --------------------------------------------------------- */

/* Registers a descriptor from the helper, or maps it to the metric an
 * earlier helper of the same plugin registered.  FALSE: protocol error. */
static gboolean apply_desc(reader_state *rs, const vitals_pipe_msg *m)
{
    vitals_loaded_plugin *lp = rs->iso->lp;
    if (m->handle != rs->map->len || m->handle >= VITALS_PLUGIN_MAX_METRICS)
        return FALSE;
    vitals_metric *h = m->desc.id ? vitals_plugin_find_metric(lp, m->desc.id) : NULL;
    if (h && g_hash_table_contains(rs->mapped, h)) {
        vitals_log(VITALS_LOG_WARN, lp->name, "invalid metric '%s': duplicate metric id (already "
                   "registered by %s)", m->desc.id, lp->name);
        h = NULL;
    } else if (!h) {
        h = lp->pub.api->metric_register(&lp->pub, &m->desc);
    }
    g_ptr_array_add(rs->map, h);
    if (h)
        g_hash_table_add(rs->mapped, h);
    return TRUE;
}

/* Applies one message; FALSE with *why on a protocol error. */
static gboolean apply(reader_state *rs, const vitals_pipe_msg *m, const char **why)
{
    vitals_isolated *iso = rs->iso;
    vitals_loaded_plugin *lp = iso->lp;
    const vitals_host_api *api = lp->pub.api;
    vitals_metric *h = NULL;
    if (m->type == VITALS_PIPE_SET || m->type == VITALS_PIPE_ADD || m->type == VITALS_PIPE_OBSERVE ||
        m->type == VITALS_PIPE_TEXT || m->type == VITALS_PIPE_CLEAR) {
        if (m->handle >= rs->map->len) {
            *why = "a value for a metric it never registered";
            return FALSE;
        }
        h = rs->map->pdata[m->handle];
    }
    switch (m->type) {
    case VITALS_PIPE_DESC:
        if (!apply_desc(rs, m)) {
            *why = "metric handles out of sequence or past the limit";
            return FALSE;
        }
        return TRUE;
    case VITALS_PIPE_SET:
        api->metric_set(h, m->number);
        return TRUE;
    case VITALS_PIPE_ADD:
        api->metric_add(h, m->number);
        return TRUE;
    case VITALS_PIPE_OBSERVE:
        api->metric_observe(h, m->number);
        return TRUE;
    case VITALS_PIPE_TEXT:
        api->metric_set_text(h, m->text);
        return TRUE;
    case VITALS_PIPE_CLEAR:
        api->metric_clear(h);
        return TRUE;
    case VITALS_PIPE_LOG:
        if (++rs->logs <= VITALS_ISOLATE_MAX_LOGS)
            vitals_log(m->level > VITALS_LOG_DEBUG ? VITALS_LOG_DEBUG : (vitals_log_level)m->level,
                       lp->name, "%s", m->text);
        else if (rs->logs == VITALS_ISOLATE_MAX_LOGS + 1)
            vitals_log(VITALS_LOG_WARN, lp->name, "more than %d log lines in one collect: dropping "
                       "the rest", VITALS_ISOLATE_MAX_LOGS);
        return TRUE;
    case VITALS_PIPE_HELLO: {
        g_mutex_lock(&iso->lock);
        iso->up = TRUE;
        guint starts = iso->starts;
        g_mutex_unlock(&iso->lock);
        rs->bytes = 0;
        char *what = g_strdup_printf("helper pid %d is up (%u metrics)%s", (int)rs->pid,
                                     rs->map->len, starts > 1 ? " again" : "");
        if (starts == 1)
            vitals_log(VITALS_LOG_INFO, "isolate", "plugin %s %s runs isolated: %s", lp->name,
                       m->text ? m->text : "?", what);
        vitals_supervisor_set_state(lp, VITALS_STATE_RUNNING, VITALS_LOG_INFO,
                                    starts > 1 ? what : NULL);
        g_free(what);
        return TRUE;
    }
    case VITALS_PIPE_FAIL: {
        g_mutex_lock(&iso->lock);
        iso->failed = TRUE;
        g_mutex_unlock(&iso->lock);
        char *reason = g_strdup_printf("skipping plugin %s: %s", lp->path,
                                       m->text ? m->text : "refused without a reason");
        vitals_supervisor_set_state(lp, VITALS_STATE_FAILED, VITALS_LOG_ERROR, reason);
        g_free(reason);
        return TRUE;
    }
    case VITALS_PIPE_DONE:
        rs->bytes = 0;
        rs->logs = 0;
        vitals_supervisor_collect_done(lp);
        return TRUE;
    default:
        *why = "a message only the host may send";
        return FALSE;
    }
}

/* Reaps the helper: politely if it is exiting anyway, by force if not. */
static int reap(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return status;
        g_usleep(10000);
    }
    kill(pid, SIGKILL); /* it closed its pipe but lives on */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* The helper is gone: log how, and schedule the restart. */
static void helper_ended(reader_state *rs, int status)
{
    vitals_isolated *iso = rs->iso;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&iso->lock);
    double ran = (double)(now - iso->spawned_at) / G_USEC_PER_SEC;
    gboolean quiet = iso->stopping || iso->failed;
    double delay = quiet ? 0 : vitals_backoff_failure(&iso->backoff, ran);
    char *killed = iso->kill_reason;
    iso->kill_reason = NULL;
    iso->pid = 0;
    if (iso->to_fd >= 0)
        close(iso->to_fd);
    iso->to_fd = -1;
    iso->up = FALSE;
    iso->restart_at = now + (gint64)(delay * G_USEC_PER_SEC);
    iso->down = TRUE;
    guint starts = iso->starts;
    g_mutex_unlock(&iso->lock);
    vitals_supervisor_collect_done(iso->lp);
    if (!quiet) {
        char *how = killed ? g_strdup_printf("was killed by the host: %s", killed)
                           : vitals_describe_exit(status);
        char *why = g_strdup_printf("helper pid %d %s after %.1f s; restarting it in %g s "
                                    "(restart %u)", (int)rs->pid, how, ran, delay, starts);
        vitals_supervisor_set_state(iso->lp, VITALS_STATE_RESTARTING, VITALS_LOG_ERROR, why);
        g_free(why);
        g_free(how);
    }
    g_free(killed);
}

static gpointer reader_thread(gpointer data)
{
    reader_state *rs = data;
    vitals_isolated *iso = rs->iso;
    const char *why = NULL;
    for (;;) {
        size_t room = 0;
        unsigned char *at = vitals_pipe_decoder_space(&rs->dec, &room);
        ssize_t n = read(rs->from_fd, at, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        vitals_pipe_decoder_wrote(&rs->dec, (size_t)n);
        rs->bytes += (gsize)n;
        if (rs->bytes > VITALS_ISOLATE_MAX_BYTES) {
            why = "it sent more than 4 MiB for one collect";
            break;
        }
        vitals_pipe_msg msg;
        int r;
        while ((r = vitals_pipe_decoder_next(&rs->dec, &msg, &why)) == 1 && apply(rs, &msg, &why))
            ;
        if (r != 0)
            break; /* a protocol error: `why` says which */
    }
    if (why) {
        char *reason = g_strdup_printf("protocol error: %s", why);
        vitals_isolate_kill(iso, reason);
        g_free(reason);
    }
    close(rs->from_fd);
    helper_ended(rs, reap(rs->pid));
    g_ptr_array_free(rs->map, TRUE);
    g_hash_table_destroy(rs->mapped);
    g_free(rs);
    return NULL;
}
