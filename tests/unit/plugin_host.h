/*
 * plugin_host.h — the test harness shared by test_loader.c,
 * test_system_plugin.c, test_action_plugin.c and test_event_plugin.c: a
 * stand-in for the daemon that loads a plugins directory through the real
 * loader (core/loader.c) into a fresh registry, with the default config or
 * an ini text written to a temporary vitals.ini, feeds it StatsD lines,
 * ticks it and looks values up in the latest frame.  One bundled plugin can
 * be copied alone from the build tree into a directory of its own and
 * loaded from there.
 *
 * Failures are check assertions, so these functions belong in check tests
 * (and, for the directory functions, in an unchecked fixture).
 */
#ifndef VITALS_TESTS_PLUGIN_HOST_H
#define VITALS_TESTS_PLUGIN_HOST_H

#include <stdbool.h>

#include "loader.h"

/* One load of a plugins directory, with the config and registry it used. */
typedef struct plugin_host {
    vitals_config cfg;
    vitals_registry *reg;
    vitals_router *router; /* takes the plugins' ingest subscriptions */
    vitals_plugins *plugins;
    vitals_frame *frame; /* the latest tick, or NULL */
} plugin_host;

/* Makes the temporary directory that holds vitals.ini, named
 * vitals-test-NAME-XXXXXX under g_get_tmp_dir(); asserts that it was made.
 * Meant for an unchecked fixture's setup; plugin_host_remove_dir() undoes it. */
void plugin_host_make_dir(const char *name);

/* Removes vitals.ini (if written) and the directory plugin_host_make_dir()
 * made, and forgets both.  Fits tcase_add_unchecked_fixture() as teardown. */
void plugin_host_remove_dir(void);

/* Fills `h` by loading `dir` with the default config, or with `ini_text`
 * written to vitals.ini first (NULL: no file; needs plugin_host_make_dir()
 * otherwise).  Asserts that the ini text loads and that a plugin set came
 * back (a missing directory gives an empty one).  No tick yet: h->frame is
 * NULL.  Pair with plugin_host_free(). */
void plugin_host_load(plugin_host *h, const char *dir, const char *ini_text);

/* Shuts every plugin down and frees everything plugin_host_load() and
 * plugin_host_tick() made.  `h` is not usable afterwards. */
void plugin_host_free(plugin_host *h);

/* One tick: every running plugin collects, then the registry freezes a frame
 * (stamped now) that replaces h->frame. */
void plugin_host_tick(plugin_host *h);

/* Parses StatsD `lines` as the host's ingest would and delivers every
 * record to the subscribed plugins; returns how many records were delivered. */
size_t plugin_host_send(plugin_host *h, const char *lines);

/* The value of metric `id` in the latest frame; asserts that `id` is
 * registered and that a tick has happened.  Owned by h->frame. */
const vitals_value *plugin_host_value(const plugin_host *h, const char *id);

/* Like plugin_host_value(), and asserts that the value is a number. */
double plugin_host_number(const plugin_host *h, const char *id);

/* Like plugin_host_value(), and asserts that the value is text, which
 * h->frame owns. */
const char *plugin_host_text(const plugin_host *h, const char *id);

/* Like plugin_host_value(), and asserts that the value is a histogram's
 * window summary. */
vitals_hist_summary plugin_host_summary(const plugin_host *h, const char *id);

/* True when metric `id` has no value (a gap) in the latest frame; asserts
 * what plugin_host_value() asserts. */
bool plugin_host_is_gap(const plugin_host *h, const char *id);

/* The descriptor of metric `id`, which lives as long as h->reg; asserts that
 * `id` is registered. */
const vitals_metric_desc *plugin_host_desc(const plugin_host *h, const char *id);

/* Sends `lines` with plugin_host_send() and asserts that the parser
 * delivered `records` records. */
void plugin_host_send_lines(plugin_host *h, const char *lines, size_t records);

/* Waits, if need be, until the first half of a second of CLOCK_MONOTONIC
 * (the plugins' clock), so that what a test sends and the tick after it
 * fall in the same whole second, even with a 1-second window. */
void plugin_host_wait_for_start_of_second(void);

/* Makes plugin_host_make_dir(name)'s directory, and a second one,
 * vitals-test-NAME-so-XXXXXX, holding only a copy of NAME.so from the build
 * tree (VITALS_BUILD_PLUGINS_DIR; the loader takes regular files only), so
 * that other plugins neither slow nor disturb it.  Asserts that both were
 * made.  For an unchecked fixture's setup; plugin_host_remove_plugin_dir()
 * undoes it. */
void plugin_host_make_plugin_dir(const char *name);

/* Removes the copy, its directory and plugin_host_make_dir()'s, and forgets
 * them.  Fits tcase_add_unchecked_fixture() as teardown. */
void plugin_host_remove_plugin_dir(void);

/* The directory plugin_host_make_plugin_dir() made (NULL before it), for
 * plugin_host_load() of a plugin that may fail. */
const char *plugin_host_plugin_dir(void);

/* Fills `h` like plugin_host_load() from plugin_host_plugin_dir(), and
 * asserts that the copied plugin loaded and runs. */
void plugin_host_load_plugin(plugin_host *h, const char *ini_text);

#endif
