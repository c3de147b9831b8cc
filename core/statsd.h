/*
 * statsd.h — the StatsD / DogStatsD line parser.  Pure: no I/O, no
 * allocation, no locks, so it is fuzzable and costs nothing per record
 * beyond the parse itself.
 *
 * A datagram holds one or more lines separated by '\n' (a trailing "\r" is
 * ignored).  A line is
 *     name:value[:value…]|type[|@rate][|#tag[:v],tag…][|c:container][|T<unix>]
 * with type one of ms, h, d (timings), c (counter), g (gauge; "+N"/"-N" is a
 * delta), s (set: the value is text).  Each value of a valid line becomes one
 * vitals_record; a malformed line is reported with the reason and skipped,
 * and the rest of the datagram still counts.
 */
#ifndef VITALS_STATSD_H
#define VITALS_STATSD_H

#include <stddef.h>
#include <vitals/plugin.h>

/* Limits that keep the parser's work per line bounded. */
#define STATSD_MAX_LINE 4096  /* longer lines are rejected, not cut */
#define STATSD_MAX_NAME 200
#define STATSD_MAX_TAGS 32

typedef void (*statsd_record_fn)(void *user, const vitals_record *record);
/* `line` is the offending line as received, without its "\r\n" (not
 * NUL-terminated), `why` a static text: "line too long", "binary data" (a
 * NUL byte or invalid UTF-8), "events and service checks are not supported",
 * "missing value", "bad metric name", "missing type", "unknown type",
 * "unknown field", "duplicate field", "bad sample rate", "bad tag",
 * "too many tags", "bad timestamp", "bad value", "negative timing" or
 * "bad set member". */
typedef void (*statsd_reject_fn)(void *user, const char *line, size_t len, const char *why);

typedef struct statsd_result {
    size_t records;   /* records delivered */
    size_t rejected;  /* malformed lines */
} statsd_result;

/*
 * Parses the datagram buf[0..len) IN PLACE (it writes NUL bytes into it so
 * that record strings need no copies) and calls on_record for each value of
 * each valid line, on_reject for each malformed non-empty line.  Empty lines
 * are skipped silently; an empty or all-binary datagram rejects nothing
 * more than its lines.  Either callback may be NULL (records are counted
 * all the same).  A line yields all of its records or none.  Record
 * strings are valid only during on_record; those of a last line without
 * '\n' point into a copy on the parser's stack.  Values are read with
 * strtod, so LC_NUMERIC must be "C".  Never reads outside buf[0..len).
 */
statsd_result statsd_parse(char *buf, size_t len, statsd_record_fn on_record,
                           statsd_reject_fn on_reject, void *user);

#endif
