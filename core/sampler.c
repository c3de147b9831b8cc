/*
 * sampler.c — the host's heartbeat, and the keeper of the plugins.
 *
 * A periodic timerfd on CLOCK_MONOTONIC keeps the cadence exact however
 * long a tick takes (a tick that overruns is counted and logged, not
 * queued up).  One eventfd wakes the thread to stop, another to apply
 * queued plugin changes at once rather than at the next tick.  Each tick's
 * sample is encoded once here and the same bytes go to every client.
 *
 * The plugins' collect() calls run on their own threads or helpers
 * (supervisor.h); a tick waits for them at most half an interval, so a
 * plugin that hangs costs its own metrics a gap, never the others a tick.
 */
#include "sampler.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "registry_json.h"

/* A change to the plugins, queued by another thread. */
typedef struct command {
    char *file;            /* a plugin file, or NULL for a config reload */
    gboolean removed;
    vitals_config *config; /* reload: the new configuration (owned) */
} command;

struct vitals_sampler {
    double interval;
    vitals_registry *reg;
    vitals_plugins *plugins;
    vitals_hub *hub;
    const vitals_config *cfg; /* what the plugins run with */
    vitals_config *owned_cfg; /* the latest reload, when there was one */
    gint *running;
    int timer_fd, stop_fd, command_fd;
    GThread *thread;
    GMutex lock;              /* guards `commands` */
    GMutex cfg_lock;          /* guards `cfg` against the watcher's probes */
    GQueue commands;
    guint generation_sent;
    guint64 overruns;
};

/* Sends the descriptor set if it changed since the last one sent, so it
 * goes out before the first sample that uses it. */
static void announce(vitals_sampler *s, const vitals_desc_set *set)
{
    if (set->generation == s->generation_sent)
        return;
    if (s->generation_sent) { /* the very first set reaches clients in hello */
        size_t len = 0;
        char *text = vitals_json_dump(vitals_json_descriptors_message(set), &len);
        vitals_hub_broadcast(s->hub, text, len, 0);
        free(text);
    }
    s->generation_sent = set->generation;
}

/* The share of an interval a tick waits for the plugins' collect(). */
#define COLLECT_BUDGET 0.5

static void tick(vitals_sampler *s)
{
    vitals_plugins_collect_within(s->plugins, s->interval * COLLECT_BUDGET);
    /* An isolated plugin may fail between commands: keep /healthz true. */
    g_atomic_int_set(s->running, (gint)vitals_plugins_running(s->plugins));
    vitals_frame *frame = vitals_registry_snapshot(s->reg, g_get_real_time() / 1e6);
    size_t len = 0;
    announce(s, frame->descs);
    char *text = vitals_json_dump(vitals_json_sample(frame), &len);
    vitals_hub_broadcast(s->hub, text, len, frame->seq);
    free(text);
    vitals_frame_unref(frame);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The text of a section, keys sorted, to tell whether a reload changed it. */
static char *section_text(const vitals_config *cfg, const char *group)
{
    gsize n = 0;
    char **keys = g_key_file_get_keys(cfg->keyfile, group, &n, NULL);
    GString *text = g_string_new(NULL);
    if (keys) {
        qsort(keys, n, sizeof *keys, compare_strings);
        for (gsize i = 0; i < n; i++) {
            char *value = g_key_file_get_value(cfg->keyfile, group, keys[i], NULL);
            g_string_append_printf(text, "%s=%s\n", keys[i], value ? value : "");
            g_free(value);
        }
    }
    g_strfreev(keys);
    return g_string_free(text, FALSE);
}

/* Checks a plugin's new section against its schema without running it. */
static gboolean section_fits(const vitals_loaded_plugin *lp, const vitals_config *next, GError **error)
{
    gboolean enabled = vitals_config_plugin_enabled(next, lp->name, error);
    if (!enabled && error && *error)
        return FALSE;
    if (!enabled || !lp->info || !lp->info->config)
        return TRUE;
    void *scratch = g_malloc0(lp->info->state_size ? lp->info->state_size : 1);
    GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = vitals_config_fill_plugin(next, lp->name, lp->info->config, scratch, owned, error);
    g_ptr_array_free(owned, TRUE);
    g_free(scratch);
    return ok;
}

/* Restarts the plugins whose section the new configuration changed; if
 * any changed section does not fit its plugin, nothing changes at all. */
static void apply_config(vitals_sampler *s, vitals_config *next)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    GError *error = NULL;
    for (guint i = 0; i < s->plugins->all->len && !error; i++) {
        const vitals_loaded_plugin *lp = s->plugins->all->pdata[i];
        char *group = g_strdup_printf("plugin:%s", lp->name);
        char *before = section_text(s->cfg, group), *after = section_text(next, group);
        if (strcmp(before, after) != 0 && section_fits(lp, next, &error))
            g_ptr_array_add(files, g_strdup_printf("%s.so", lp->name));
        g_free(before);
        g_free(after);
        g_free(group);
    }
    if (error) {
        vitals_log(VITALS_LOG_ERROR, "sampler", "SIGHUP: keeping the running config: %s", error->message);
        g_error_free(error);
        g_ptr_array_free(files, TRUE);
        vitals_config_clear(next);
        g_free(next);
        return;
    }
    /* Swap first: the reloaded plugins must read the new sections. */
    g_mutex_lock(&s->cfg_lock);
    vitals_config *old = s->owned_cfg;
    s->cfg = s->owned_cfg = next;
    g_mutex_unlock(&s->cfg_lock);
    for (guint i = 0; i < files->len; i++) {
        vitals_log(VITALS_LOG_INFO, "sampler", "config of %s changed: restarting it",
                   (char *)files->pdata[i]);
        vitals_plugins_reload(s->plugins, files->pdata[i], s->cfg);
    }
    if (!files->len)
        vitals_log(VITALS_LOG_INFO, "sampler", "config reloaded; no plugin section changed");
    g_ptr_array_free(files, TRUE);
    if (old) {
        vitals_config_clear(old);
        g_free(old);
    }
}

/* Applies the queued plugin changes, then tells clients what changed. */
static void run_commands(vitals_sampler *s)
{
    uint64_t count;
    ssize_t r = read(s->command_fd, &count, sizeof count);
    (void)r;
    for (;;) {
        g_mutex_lock(&s->lock);
        command *c = g_queue_pop_head(&s->commands);
        g_mutex_unlock(&s->lock);
        if (!c)
            break;
        if (c->config) {
            apply_config(s, c->config);
        } else if (c->removed) {
            char *name = g_strndup(c->file, strlen(c->file) - strlen(".so"));
            vitals_plugins_unload(s->plugins, name);
            g_free(name);
        } else {
            vitals_plugins_reload(s->plugins, c->file, s->cfg);
        }
        g_free(c->file);
        g_free(c);
    }
    g_atomic_int_set(s->running, (gint)vitals_plugins_running(s->plugins));
    vitals_desc_set *set = vitals_registry_descriptors(s->reg);
    announce(s, set);
    vitals_desc_set_unref(set);
}

static void queue_command(vitals_sampler *s, command *c)
{
    g_mutex_lock(&s->lock);
    g_queue_push_tail(&s->commands, c);
    g_mutex_unlock(&s->lock);
    uint64_t one = 1;
    ssize_t r = write(s->command_fd, &one, sizeof one);
    (void)r;
}

void vitals_sampler_plugin_file(vitals_sampler *s, const char *file, gboolean removed)
{
    /* Probe here, on the caller's thread: a plugin that hangs in init must
     * hold up the watcher, not the ticks.  The load then finds the verdict. */
    if (!removed) {
        g_mutex_lock(&s->cfg_lock);
        vitals_plugins_preprobe(s->plugins, s->cfg, file);
        g_mutex_unlock(&s->cfg_lock);
    }
    command *c = g_new0(command, 1);
    c->file = g_strdup(file);
    c->removed = removed;
    queue_command(s, c);
}

void vitals_sampler_reload(vitals_sampler *s, vitals_config *cfg)
{
    command *c = g_new0(command, 1);
    c->config = cfg;
    queue_command(s, c);
}

static gpointer sampler_thread(gpointer data)
{
    vitals_sampler *s = data;
    struct pollfd fds[3] = {{.fd = s->timer_fd, .events = POLLIN}, {.fd = s->stop_fd, .events = POLLIN},
                            {.fd = s->command_fd, .events = POLLIN}};
    tick(s);
    for (;;) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            vitals_log(VITALS_LOG_ERROR, "sampler", "poll: %s", g_strerror(errno));
            break;
        }
        if (fds[1].revents)
            break;
        if (fds[2].revents)
            run_commands(s);
        if (!fds[0].revents)
            continue;
        uint64_t expirations = 0;
        if (read(s->timer_fd, &expirations, sizeof expirations) != sizeof expirations)
            continue;
        if (expirations > 1) {
            s->overruns += expirations - 1;
            vitals_log(VITALS_LOG_WARN, "sampler", "a tick took longer than the interval: %" G_GUINT64_FORMAT
                       " tick(s) skipped (%" G_GUINT64_FORMAT " in all)", expirations - 1, s->overruns);
        }
        tick(s);
    }
    return NULL;
}

vitals_sampler *vitals_sampler_start(double interval, vitals_registry *reg, vitals_plugins *plugins,
                                     vitals_hub *hub, const vitals_config *cfg, gint *running,
                                     GError **error)
{
    vitals_sampler *s = g_new0(vitals_sampler, 1);
    s->interval = interval;
    s->reg = reg;
    s->plugins = plugins;
    s->hub = hub;
    s->cfg = cfg;
    s->running = running;
    g_mutex_init(&s->lock);
    g_mutex_init(&s->cfg_lock);
    g_queue_init(&s->commands);
    g_atomic_int_set(running, (gint)vitals_plugins_running(plugins));
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    s->command_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    double whole = floor(interval);
    struct timespec period = {(time_t)whole, (long)((interval - whole) * 1e9)};
    struct itimerspec spec = {.it_interval = period, .it_value = period};
    if (s->timer_fd < 0 || s->stop_fd < 0 || s->command_fd < 0 ||
        timerfd_settime(s->timer_fd, 0, &spec, NULL) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "sampler timer: %s",
                    g_strerror(errno));
        vitals_sampler_stop(s);
        return NULL;
    }
    s->thread = g_thread_try_new("vitals-sampler", sampler_thread, s, error);
    if (!s->thread) {
        vitals_sampler_stop(s);
        return NULL;
    }
    return s;
}

void vitals_sampler_stop(vitals_sampler *s)
{
    if (!s)
        return;
    if (s->thread) {
        uint64_t one = 1;
        ssize_t r = write(s->stop_fd, &one, sizeof one);
        (void)r;
        g_thread_join(s->thread);
    }
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->command_fd >= 0)
        close(s->command_fd);
    command *c;
    while ((c = g_queue_pop_head(&s->commands))) {
        if (c->config) {
            vitals_config_clear(c->config);
            g_free(c->config);
        }
        g_free(c->file);
        g_free(c);
    }
    if (s->owned_cfg) {
        vitals_config_clear(s->owned_cfg);
        g_free(s->owned_cfg);
    }
    g_mutex_clear(&s->lock);
    g_mutex_clear(&s->cfg_lock);
    g_free(s);
}
