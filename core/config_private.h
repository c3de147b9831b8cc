/*
 * config_private.h — helpers config.c lends to config_plugin.c: where a key
 * is ("file:line"), which key of a section is unknown, and errors that say so.
 * Not part of the host's interface.
 */
#ifndef VITALS_CONFIG_PRIVATE_H
#define VITALS_CONFIG_PRIVATE_H

#include "config.h"

/* A plugin's section is [plugin:NAME]. */
#define PLUGIN_PREFIX "plugin:"

/* "path:line" of a key (or of a group header when key is NULL); newly allocated. */
char *config_where(const vitals_config *cfg, const char *group, const char *key);

/* The first key of `group` in file order that `valid` (NULL-terminated) does
 * not name, newly allocated, or NULL. */
char *config_first_unknown_key(const vitals_config *cfg, const char *group,
                               const char *const *valid);

/* Sets a VITALS_CONFIG_ERROR_KEY error naming the key, its line and the valid keys. */
void config_unknown_key_error(const vitals_config *cfg, const char *group, const char *key,
                              const char *const *valid, GError **error);

/* Sets a VITALS_CONFIG_ERROR_VALUE error: "file:line: key 'k' in [g]: 'v' is <why>". */
void config_value_error(const vitals_config *cfg, const char *group, const char *key,
                        const char *value, const char *why, GError **error);

/* The value of a key, unescaped and stripped, or NULL with `error` set. */
char *config_get_value(const vitals_config *cfg, const char *group, const char *key,
                       GError **error);

#endif
