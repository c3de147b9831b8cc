/*
 * probe.h — tries a plugin in a child process before it enters the host.
 *
 * As GStreamer's plugin scanner does, the host runs a plugin's riskiest
 * moments — dlopen (constructors), init() and its first collect() — in a
 * child (`vitals --plugin-probe FILE`, see plugin_helper.c) and loads it
 * only if the child came through.  A plugin that kills the child (a
 * signal, an exit) or makes it run past the time bound is refused with the
 * reason, and the verdict is remembered for the file's size and mtime
 * (probe_cache.h), so the next start does not probe it again.
 */
#ifndef VITALS_PROBE_H
#define VITALS_PROBE_H

#include <glib.h>
#include <sys/stat.h>

#include "probe_cache.h"

typedef struct vitals_probe_options {
    const char *exe;         /* the vitals binary to run; NULL: no probing     */
    const char *config_path; /* handed to the child as --config; may be NULL  */
    double interval;         /* handed to the child as --interval              */
    double timeout;          /* seconds before the child counts as hung        */
    const char *cache;       /* the verdict cache file                         */
} vitals_probe_options;

/*
 * Decides whether the plugin file `path` (whose lstat is `st`) may be
 * loaded into the host: from the cache when it knows this size and mtime,
 * else by running a probe and remembering the verdict.  Returns the
 * verdict; for CRASHED and HUNG, *why (newly allocated) says what happened
 * and whether it came from the cache.  Blocks up to `timeout` seconds.
 */
vitals_verdict vitals_probe_plugin(const vitals_probe_options *o, const char *path,
                                   const struct stat *st, char **why);

/* "killed by signal 11 (Segmentation fault)" or "exited with status 3",
 * from a waitpid() status; newly allocated. */
char *vitals_describe_exit(int status);

#endif
