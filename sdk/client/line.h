/*
 * line.h — the StatsD lines of the vitals client, formatted by hand.
 *
 * Pure: no I/O, no allocation, no locale, no snprintf.  Each vl_* writer
 * appends to `p` (which has room for VL_MAX_LINE bytes) and returns the
 * number of bytes written, the trailing '\n' included.  These sit on the hot
 * path of every vitals_* call, so they are static inline and branch-light;
 * formatting an action line costs ~10-20 ns.
 *
 * The lines (consumed by the host's action and event plugins):
 *     action:<ms>|ms|#name:<name>,ok:<true|false>
 *     event:<ms>|ms|#ok:<true|false>
 *     event.queued:<n>|c
 *     <which>.queue:<n>|g
 *     action.current:<name|->|s
 */
#ifndef VITALS_CLIENT_LINE_H
#define VITALS_CLIENT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vitals/client.h>

/* The longest line any writer produces (name + number + decoration). */
#define VL_MAX_LINE 256
/* Written for a NULL or empty name. */
#define VL_UNNAMED "unnamed"

/* Bytes that may not appear in a name or tag value: they delimit StatsD.
 * (A chain of compares: faster here than a table or a bit set.) */
static inline bool vl_is_special(unsigned char ch)
{
    return ch == '\n' || ch == '\r' || ch == '#' || ch == ',' || ch == ':' || ch == '|';
}

static inline size_t vl_lit(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return n;
}
#define VL_LIT(p, s) vl_lit((p), (s), sizeof(s) - 1)

/* The decimal digits of v (no sign). */
static inline size_t vl_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* v in decimal, with a '-' when negative. */
static inline size_t vl_long(char *p, long v)
{
    if (v >= 0)
        return vl_u64(p, (uint64_t)v);
    p[0] = '-';
    return 1 + vl_u64(p + 1, (uint64_t)0 - (uint64_t)v);
}

/*
 * `seconds` as milliseconds with at most 3 decimals, trailing zeros dropped,
 * never an exponent: 0.0123456 -> "12.346", 1.5 -> "1500", 2e-6 -> "0.002".
 * Negative and NaN give "0"; values above 1e15 ms (31,000 years) are capped.
 */
static inline size_t vl_ms(char *p, double seconds)
{
    double us = seconds * 1e6; /* thousandths of a millisecond */
    if (!(us > 0))
        us = 0;
    else if (us > 1e18)
        us = 1e18;
    uint64_t t = (uint64_t)(us + 0.5);
    size_t n = vl_u64(p, t / 1000);
    unsigned frac = (unsigned)(t % 1000);
    if (frac) {
        unsigned d1 = frac / 100, d2 = frac / 10 % 10, d3 = frac % 10;
        p[n++] = '.';
        p[n++] = (char)('0' + d1);
        if (d2 || d3)
            p[n++] = (char)('0' + d2);
        if (d3)
            p[n++] = (char)('0' + d3);
    }
    return n;
}

/*
 * `name` sanitised: StatsD delimiters become '_', and a name longer than
 * VITALS_CLIENT_MAX_NAME bytes is cut before the first UTF-8 character that
 * does not fit whole.  NULL, "" (or a name left empty by the cut) gives
 * VL_UNNAMED.
 */
static inline size_t vl_name(char *p, const char *name)
{
    size_t n = 0;
    if (name) {
        while (n < VITALS_CLIENT_MAX_NAME && name[n]) {
            unsigned char ch = (unsigned char)name[n];
            p[n++] = vl_is_special(ch) ? '_' : (char)ch;
        }
        /* Cut inside a multi-byte character: back up to its lead byte. */
        if (n == VITALS_CLIENT_MAX_NAME)
            while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
                n--;
    }
    if (n == 0)
        return VL_LIT(p, VL_UNNAMED);
    return n;
}

static inline size_t vl_ok(char *p, bool ok)
{
    return ok ? VL_LIT(p, "ok:true\n") : VL_LIT(p, "ok:false\n");
}

/* action:<ms>|ms|#name:<name>,ok:<bool> */
static inline size_t vl_action(char *p, const char *name, double seconds, bool ok)
{
    size_t n = VL_LIT(p, "action:");
    n += vl_ms(p + n, seconds);
    n += VL_LIT(p + n, "|ms|#name:");
    n += vl_name(p + n, name);
    p[n++] = ',';
    return n + vl_ok(p + n, ok);
}

/* event:<ms>|ms|#ok:<bool> */
static inline size_t vl_event(char *p, double seconds, bool ok)
{
    size_t n = VL_LIT(p, "event:");
    n += vl_ms(p + n, seconds);
    n += VL_LIT(p + n, "|ms|#");
    return n + vl_ok(p + n, ok);
}

/* event.queued:<n>|c */
static inline size_t vl_event_queued(char *p, long count)
{
    size_t n = VL_LIT(p, "event.queued:");
    n += vl_long(p + n, count);
    return n + VL_LIT(p + n, "|c\n");
}

/* <which>.queue:<n>|g — a negative depth is sent as 0, since StatsD reads
 * a leading '-' on a gauge as a decrement. */
static inline size_t vl_queue(char *p, const char *which, long depth)
{
    size_t n = vl_name(p, which);
    n += VL_LIT(p + n, ".queue:");
    n += vl_long(p + n, depth < 0 ? 0 : depth);
    return n + VL_LIT(p + n, "|g\n");
}

/* action.current:<name>|s, or action.current:-|s for NULL or "". */
static inline size_t vl_current(char *p, const char *name)
{
    size_t n = VL_LIT(p, "action.current:");
    if (name && *name)
        n += vl_name(p + n, name);
    else
        p[n++] = '-';
    return n + VL_LIT(p + n, "|s\n");
}

#endif
