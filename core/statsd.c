/*
 * statsd.c — the StatsD / DogStatsD line parser, pure.
 *
 * Why it exists: every record an application sends over UDP passes through
 * here, from any sender, well-formed or not.  Keeping the wire grammar in
 * one file that does no I/O, no allocation and takes no lock makes it cheap
 * per line, testable on its own and safe to fuzz: whatever the bytes, it
 * reads nothing outside buf[0..len) and either delivers records or names
 * the reason a line was refused.
 *
 * Each line is (1) screened: too long, NUL bytes or invalid UTF-8, events
 * and service checks are refused first; (2) parsed without being changed:
 * name, values, sections and tags are located and checked, tags kept as
 * spans in a fixed array on the stack, so on_reject sees the line intact;
 * (3) delivered, if valid: NULs are written over the delimiters ending the
 * name, the set member and each tag, and each value becomes one record.
 * All values are checked first, so a line yields all its records or none.
 * The last line of a datagram may have no byte after it to hold a NUL; that
 * one line is parsed from a copy on the stack (at most STATSD_MAX_LINE + 1
 * bytes), so records never point past len.
 *
 * Numbers are checked against a small decimal grammar first and only then
 * converted with strtod, so "nan", "inf", hex floats and blanks never reach
 * it.  strtod follows LC_NUMERIC, which must stay "C" (the default unless
 * the program calls setlocale).
 */
#include "statsd.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest set member, in bytes. */
#define STATSD_MAX_SET 200

/* Sections after the type; each may appear once per line. */
enum { SEEN_RATE = 1, SEEN_TAGS = 2, SEEN_CONTAINER = 4, SEEN_TIME = 8 };

/* One tag as located by the parse: key in [key, key_end), value in
 * [val, val_end), val NULL for a tag written without ':'. */
typedef struct statsd_tag_span {
    char *key, *key_end;
    char *val, *val_end;
} statsd_tag_span;

/* Everything the parse found in one valid line, ready for delivery. */
typedef struct statsd_line {
    char *name_end;            /* the ':' after the name                */
    char *values, *values_end; /* the value list; values_end is a '|'  */
    vitals_record_type type;
    double rate;
    unsigned seen; /* SEEN_* bits */
    size_t tag_count;
    statsd_tag_span tags[STATSD_MAX_TAGS];
} statsd_line;

/* True for an ASCII decimal digit (locale-free, unlike isdigit). */
static bool statsd_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * True when s[0..n) is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF) and holds no NUL byte.
 */
static bool statsd_text_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t more;
        if (c >= 0x01 && c <= 0x7F) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            more = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false; /* NUL, a stray continuation byte, C0, C1, F5..FF */
        if (n - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++, lo = 0x80, hi = 0xBF)
            if (s[i + k] < lo || s[i + k] > hi)
                return false;
        i += more + 1;
    }
    return true;
}

/* True when s[0..n) is a metric name: 1..STATSD_MAX_NAME of [A-Za-z0-9_.-]. */
static bool statsd_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > STATSD_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(statsd_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/*
 * Reads the number that must fill [s, e) exactly: an optional sign, digits
 * with an optional '.' (at least one digit in all), an optional exponent.
 * *e must be a readable byte that cannot continue a number (a delimiter or
 * the line's terminator): strtod stops there.  Returns true and sets *out
 * for a finite number, false for anything else.
 */
static bool statsd_number(const char *s, const char *e, double *out)
{
    const char *p = s;
    size_t digits = 0;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    for (; p < e && statsd_digit(*p); p++)
        digits++;
    if (p < e && *p == '.')
        for (p++; p < e && statsd_digit(*p); p++)
            digits++;
    if (digits == 0)
        return false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *exp = p;
        while (p < e && statsd_digit(*p))
            p++;
        if (p == exp)
            return false;
    }
    if (p != e)
        return false;
    char *stop;
    double v = strtod(s, &stop);
    if (stop != e || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Maps the type field [s, e) to *out; returns false for an unknown type. */
static bool statsd_type(const char *s, const char *e, vitals_record_type *out)
{
    size_t n = (size_t)(e - s);
    if (n == 2 && s[0] == 'm' && s[1] == 's')
        *out = VITALS_RECORD_TIMING;
    else if (n == 1 && (*s == 'h' || *s == 'd'))
        *out = VITALS_RECORD_TIMING;
    else if (n == 1 && *s == 'c')
        *out = VITALS_RECORD_COUNTER;
    else if (n == 1 && *s == 'g')
        *out = VITALS_RECORD_GAUGE;
    else if (n == 1 && *s == 's')
        *out = VITALS_RECORD_SET;
    else
        return false;
    return true;
}

/*
 * Locates the tags of the section body [p, e) ("k:v,k2,…") in l->tags.
 * Returns NULL, or the reason: "bad tag" for an empty tag or key, "too many
 * tags" past STATSD_MAX_TAGS.
 */
static const char *statsd_tags(char *p, char *e, statsd_line *l)
{
    for (;;) {
        char *comma = memchr(p, ',', (size_t)(e - p));
        char *end = comma ? comma : e;
        char *colon = memchr(p, ':', (size_t)(end - p));
        if ((colon ? colon : end) == p)
            return "bad tag";
        if (l->tag_count == STATSD_MAX_TAGS)
            return "too many tags";
        statsd_tag_span *t = &l->tags[l->tag_count++];
        t->key = p;
        t->key_end = colon ? colon : end;
        t->val = colon ? colon + 1 : NULL;
        t->val_end = end;
        if (!comma)
            return NULL;
        p = comma + 1;
    }
}

/*
 * Handles one section after the type, [p, e) without its '|': "@rate",
 * "#tags", "c:container" (ignored) or "T<unix seconds>" (checked, ignored).
 * Returns NULL or the reason the line is refused.
 */
static const char *statsd_section(char *p, char *e, statsd_line *l)
{
    unsigned bit;
    char kind = p < e ? *p : '\0';
    if (kind == '@')
        bit = SEEN_RATE;
    else if (kind == '#')
        bit = SEEN_TAGS;
    else if (kind == 'c' && e - p >= 2 && p[1] == ':')
        bit = SEEN_CONTAINER;
    else if (kind == 'T')
        bit = SEEN_TIME;
    else
        return "unknown field";
    if (l->seen & bit)
        return "duplicate field";
    l->seen |= bit;
    if (bit == SEEN_RATE) {
        if (!statsd_number(p + 1, e, &l->rate) || !(l->rate > 0 && l->rate <= 1))
            return "bad sample rate";
    } else if (bit == SEEN_TAGS) {
        return statsd_tags(p + 1, e, l);
    } else if (bit == SEEN_TIME) {
        if (e - p < 2)
            return "bad timestamp";
        for (const char *d = p + 1; d < e; d++)
            if (!statsd_digit(*d))
                return "bad timestamp";
    }
    return NULL;
}

/*
 * Checks the value list against the type: a set member is 1..STATSD_MAX_SET
 * bytes of any text (':' included); otherwise every ':'-separated value is
 * a finite number, and timings are not negative.  Returns NULL or the reason.
 */
static const char *statsd_values(const statsd_line *l)
{
    if (l->type == VITALS_RECORD_SET) {
        size_t n = (size_t)(l->values_end - l->values);
        return n >= 1 && n <= STATSD_MAX_SET ? NULL : "bad set member";
    }
    const char *p = l->values;
    for (;;) {
        const char *colon = memchr(p, ':', (size_t)(l->values_end - p));
        const char *end = colon ? colon : l->values_end;
        double v;
        if (!statsd_number(p, end, &v))
            return "bad value";
        if (l->type == VITALS_RECORD_TIMING && v < 0)
            return "negative timing";
        if (!colon)
            return NULL;
        p = colon + 1;
    }
}

/*
 * Parses the screened line [line, end) without changing it; *end must be
 * writable (it is the terminator, or the NUL of a copy).  Returns NULL and
 * fills *l for a valid line, else the reason it is refused.
 */
static const char *statsd_parse_line(char *line, char *end, statsd_line *l)
{
    char *bar = memchr(line, '|', (size_t)(end - line));
    char *colon = memchr(line, ':', (size_t)((bar ? bar : end) - line));
    if (!colon)
        return "missing value";
    if (!statsd_name_ok(line, (size_t)(colon - line)))
        return "bad metric name";
    if (!bar)
        return "missing type";
    l->name_end = colon;
    l->values = colon + 1;
    l->values_end = bar;
    l->rate = 1.0;
    l->seen = 0;
    l->tag_count = 0;
    char *type = bar + 1;
    bar = memchr(type, '|', (size_t)(end - type));
    if (!statsd_type(type, bar ? bar : end, &l->type))
        return "unknown type";
    while (bar) {
        char *section = bar + 1;
        bar = memchr(section, '|', (size_t)(end - section));
        const char *why = statsd_section(section, bar ? bar : end, l);
        if (why)
            return why;
    }
    return statsd_values(l);
}

/*
 * Delivers the records of the parsed line that starts at `name`: terminates
 * the name, the set member and every tag in place, then calls on_record
 * (when not NULL) once per value.  Returns the number of records.
 */
static size_t statsd_emit(const statsd_line *l, char *name, statsd_record_fn on_record,
                          void *user)
{
    vitals_tag tags[STATSD_MAX_TAGS];
    for (size_t i = 0; i < l->tag_count; i++) {
        const statsd_tag_span *t = &l->tags[i];
        *t->key_end = '\0';
        *t->val_end = '\0';
        tags[i].key = t->key;
        tags[i].value = t->val ? t->val : "";
    }
    *l->name_end = '\0';
    vitals_record r = {.name = name, .type = l->type, .sample_rate = l->rate,
                       .tag_count = l->tag_count, .tags = tags};
    if (l->type == VITALS_RECORD_SET) {
        *l->values_end = '\0';
        r.text = l->values;
        if (on_record)
            on_record(user, &r);
        return 1;
    }
    size_t count = 0;
    for (char *p = l->values;;) {
        char *colon = memchr(p, ':', (size_t)(l->values_end - p));
        r.value = strtod(p, NULL); /* checked: stops at the ':' or '|' */
        r.delta = l->type == VITALS_RECORD_GAUGE && (*p == '+' || *p == '-');
        if (on_record)
            on_record(user, &r);
        count++;
        if (!colon)
            return count;
        p = colon + 1;
    }
}

/*
 * The checks made before parsing, on the line [line, line + n) without its
 * terminator: length, binary bytes, event and service check lines.
 * Returns NULL or the reason.
 */
static const char *statsd_screen(const char *line, size_t n)
{
    if (n > STATSD_MAX_LINE)
        return "line too long";
    if (!statsd_text_ok((const unsigned char *)line, n))
        return "binary data";
    if ((n >= 3 && memcmp(line, "_e{", 3) == 0) || (n >= 4 && memcmp(line, "_sc|", 4) == 0))
        return "events and service checks are not supported";
    return NULL;
}

/*
 * Handles one non-empty line [line, line + n), its terminator stripped.
 * `room` says whether line[n] is inside the datagram (and so may take a
 * NUL); if not, the line is parsed from a stack copy.  Adds to *res and
 * calls the callbacks; on_reject gets the line as received.
 */
static void statsd_line_handle(char *line, size_t n, bool room, statsd_record_fn on_record,
                               statsd_reject_fn on_reject, void *user, statsd_result *res)
{
    char copy[STATSD_MAX_LINE + 1];
    statsd_line l;
    const char *why = statsd_screen(line, n);
    if (!why) {
        char *work = line;
        if (!room) {
            memcpy(copy, line, n);
            copy[n] = '\0';
            work = copy;
        }
        why = statsd_parse_line(work, work + n, &l);
        if (!why) {
            res->records += statsd_emit(&l, work, on_record, user);
            return;
        }
    }
    res->rejected++;
    if (on_reject)
        on_reject(user, line, n, why);
}

/*
 * See statsd.h.  Splits buf[0..len) at '\n', strips one '\r' before it (or
 * at the very end), skips empty lines and handles each other line.
 */
statsd_result statsd_parse(char *buf, size_t len, statsd_record_fn on_record,
                           statsd_reject_fn on_reject, void *user)
{
    statsd_result res = {0, 0};
    size_t pos = 0;
    while (buf && pos < len) {
        char *line = buf + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        bool room = nl != NULL;
        pos += n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r') {
            n--;
            room = true;
        }
        if (n > 0)
            statsd_line_handle(line, n, room, on_record, on_reject, user, &res);
    }
    return res;
}
