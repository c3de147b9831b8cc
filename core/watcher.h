/*
 * watcher.h — notices plugin files arriving in, changing in and leaving the
 * plugins directory (inotify), so a plugin goes live without a restart.
 *
 * A file is reported only once it is complete: its size and modification
 * time must stay the same for VITALS_WATCH_SETTLE_MS, so a plugin still
 * being copied is never loaded half-written.  A removal is reported at once.
 */
#ifndef VITALS_WATCHER_H
#define VITALS_WATCHER_H

#include <glib.h>

#define VITALS_WATCH_SETTLE_MS 500

/* Called on the watcher's thread with a file name (not a path). */
typedef void (*vitals_watch_fn)(void *user, const char *file, gboolean removed);

typedef struct vitals_watcher vitals_watcher;

/* Starts watching `dir` for "*.so" files.  NULL with *error if inotify or
 * the directory cannot be watched (the host then runs without drop-in). */
vitals_watcher *vitals_watcher_start(const char *dir, vitals_watch_fn changed, void *user,
                                     GError **error);
void vitals_watcher_stop(vitals_watcher *w);

#endif
