/*
 * plugin_host.h — the test harness shared by test_loader.c and
 * test_system_plugin.c: a stand-in for the daemon that loads a plugins
 * directory through the real loader (core/loader.c) into a fresh registry,
 * with the default config or an ini text written to a temporary vitals.ini,
 * ticks it and looks values up in the latest frame.
 *
 * Failures are check assertions, so these functions belong in check tests
 * (and, for the directory functions, in an unchecked fixture).
 */
#ifndef VITALS_TESTS_PLUGIN_HOST_H
#define VITALS_TESTS_PLUGIN_HOST_H

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

#endif
