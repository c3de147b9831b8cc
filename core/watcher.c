/*
 * watcher.c — live drop-in of plugin files.
 *
 * One thread reads inotify events for the plugins directory and keeps the
 * files it heard of in a "settling" table until they stop changing; only
 * then does it report them.  It never loads anything itself: loading
 * belongs to the sampler thread, which owns the plugins.
 */
#include "watcher.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define POLL_MS 100

typedef struct settling {
    off_t size;
    struct timespec mtime;
    gint64 since;   /* monotonic time the file last changed */
} settling;

struct vitals_watcher {
    char *dir;
    vitals_watch_fn changed;
    void *user;
    int inotify_fd, stop_fd;
    GThread *thread;
    GHashTable *settling; /* file name -> settling* */
};

static gboolean is_plugin_name(const char *name)
{
    return name[0] != '.' && g_str_has_suffix(name, ".so") && strlen(name) > 3;
}

/* Reads the pending inotify events into the settling table. */
static void read_events(vitals_watcher *w)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->inotify_fd, buf, sizeof buf);
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW)
                vitals_log(VITALS_LOG_WARN, "watcher", "inotify queue overflowed: some plugin changes were missed");
            if (!ev->len || !is_plugin_name(ev->name))
                continue;
            if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                g_hash_table_remove(w->settling, ev->name);
                vitals_log(VITALS_LOG_INFO, "watcher", "plugin file %s removed", ev->name);
                w->changed(w->user, ev->name, TRUE);
            } else if (!g_hash_table_contains(w->settling, ev->name)) {
                g_hash_table_insert(w->settling, g_strdup(ev->name), g_new0(settling, 1));
            }
        }
    }
}

/* Reports the files that stopped changing; forgets the ones that vanished. */
static void check_settled(vitals_watcher *w)
{
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, w->settling);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        settling *s = value;
        char *path = g_build_filename(w->dir, key, NULL);
        struct stat st;
        int rc = lstat(path, &st);
        g_free(path);
        if (rc != 0) {
            g_hash_table_iter_remove(&it);
            continue;
        }
        if (s->since == 0 || st.st_size != s->size || st.st_mtim.tv_sec != s->mtime.tv_sec ||
            st.st_mtim.tv_nsec != s->mtime.tv_nsec) {
            s->size = st.st_size;
            s->mtime = st.st_mtim;
            s->since = now;
            continue;
        }
        if (now - s->since >= VITALS_WATCH_SETTLE_MS * 1000) {
            vitals_log(VITALS_LOG_INFO, "watcher", "plugin file %s arrived or changed", (char *)key);
            w->changed(w->user, key, FALSE);
            g_hash_table_iter_remove(&it);
        }
    }
}

static gpointer watch_thread(gpointer data)
{
    vitals_watcher *w = data;
    struct pollfd fds[2] = {{.fd = w->inotify_fd, .events = POLLIN}, {.fd = w->stop_fd, .events = POLLIN}};
    for (;;) {
        int timeout = g_hash_table_size(w->settling) ? POLL_MS : -1;
        if (poll(fds, 2, timeout) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (fds[0].revents)
            read_events(w);
        check_settled(w);
    }
    return NULL;
}

vitals_watcher *vitals_watcher_start(const char *dir, vitals_watch_fn changed, void *user,
                                     GError **error)
{
    vitals_watcher *w = g_new0(vitals_watcher, 1);
    w->dir = g_strdup(dir);
    w->changed = changed;
    w->user = user;
    w->settling = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (w->inotify_fd < 0 || w->stop_fd < 0 ||
        inotify_add_watch(w->inotify_fd, dir, IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB |
                                                  IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot watch %s for plugins: %s", dir, g_strerror(errno));
        vitals_watcher_stop(w);
        return NULL;
    }
    w->thread = g_thread_try_new("vitals-watcher", watch_thread, w, error);
    if (!w->thread) {
        vitals_watcher_stop(w);
        return NULL;
    }
    return w;
}

void vitals_watcher_stop(vitals_watcher *w)
{
    if (!w)
        return;
    if (w->thread) {
        uint64_t one = 1;
        ssize_t r = write(w->stop_fd, &one, sizeof one);
        (void)r;
        g_thread_join(w->thread);
    }
    if (w->inotify_fd >= 0)
        close(w->inotify_fd);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    g_hash_table_destroy(w->settling);
    g_free(w->dir);
    g_free(w);
}
