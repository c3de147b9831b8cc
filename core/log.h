/*
 * log.h — the host's one logging function.
 *
 * Every event is one line on stderr: time, level, who (a plugin, a client,
 * a module) and the message.  Thread-safe; lines never interleave.
 */
#ifndef VITALS_LOG_H
#define VITALS_LOG_H

#include <stdarg.h>
#include <vitals/plugin.h>

void vitals_log_set_level(vitals_log_level max_level);
vitals_log_level vitals_log_get_level(void);

/* `who` names the component ("host", "plugin system", "ws 127.0.0.1:5123"). */
void vitals_log(vitals_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vitals_logv(vitals_log_level level, const char *who, const char *fmt, va_list ap);

#endif
