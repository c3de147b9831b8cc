/*
 * log.c — one line per event on stderr.
 *
 * The whole line is formatted first and written with one fputs under the
 * stream's lock, so lines from the sampler, HTTP and hub threads never mix.
 */
#include "log.h"

#include <glib.h>
#include <stdio.h>
#include <time.h>

static volatile int max_level = VITALS_LOG_INFO;

void vitals_log_set_level(vitals_log_level level) { max_level = (int)level; }
vitals_log_level vitals_log_get_level(void) { return (vitals_log_level)max_level; }

static const char *level_name(vitals_log_level level)
{
    switch (level) {
    case VITALS_LOG_ERROR: return "error";
    case VITALS_LOG_WARN: return "warn ";
    case VITALS_LOG_INFO: return "info ";
    default: return "debug";
    }
}

void vitals_logv(vitals_log_level level, const char *who, const char *fmt, va_list ap)
{
    if ((int)level > max_level)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    localtime_r(&now.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);

    char *message = g_strdup_vprintf(fmt, ap);
    char *line = g_strdup_printf("%s.%03ld %s [%s] %s\n", stamp, now.tv_nsec / 1000000L,
                                 level_name(level), who ? who : "host", message);
    flockfile(stderr);
    fputs(line, stderr);
    fflush(stderr);
    funlockfile(stderr);
    g_free(line);
    g_free(message);
}

void vitals_log(vitals_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vitals_logv(level, who, fmt, ap);
    va_end(ap);
}
