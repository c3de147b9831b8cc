/*
 * http_head.c — an HTTP/1.1 request head from raw bytes (see http_head.h).
 *
 * Strict where leniency buys nothing: the only requests parsed here are
 * WebSocket handshakes, which every client library sends in one plain
 * shape, so anything unusual is a 400 rather than a guess.  The bounds are
 * libmicrohttpd's, so a request is refused the same way whichever path
 * reads it.
 */
#include "http_head.h"

#include <string.h>

vitals_http_peek vitals_http_peek_kind(const char *buf, size_t len)
{
    static const char prefix[] = "GET /ws";
    size_t n = len < sizeof prefix - 1 ? len : sizeof prefix - 1;
    if (memcmp(buf, prefix, n) != 0)
        return VITALS_HTTP_PEEK_OTHER;
    if (len < VITALS_HTTP_PEEK_LEN)
        return VITALS_HTTP_PEEK_MORE;
    /* "/ws" itself, with or without a query: "/wsx" and "/ws/" are other paths. */
    return buf[7] == ' ' || buf[7] == '?' ? VITALS_HTTP_PEEK_WS : VITALS_HTTP_PEEK_OTHER;
}

/* RFC 9110 5.6.2: the characters of a token (method, field name). */
static gboolean is_tchar(unsigned char c)
{
    return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static gboolean is_token(const char *s)
{
    if (!*s)
        return FALSE;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return FALSE;
    return TRUE;
}

/* Visible ASCII, and bytes >= 0x80 (obs-text): what a target or value may hold. */
static gboolean is_visible(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

/* Finds where the head ends (just past its blank line) in buf[0..len). */
static vitals_http_head_result find_end(const char *buf, size_t len, size_t *end)
{
    size_t n = len < VITALS_HTTP_HEAD_MAX ? len : VITALS_HTTP_HEAD_MAX;
    size_t pos = 0;
    for (gboolean first = TRUE;; first = FALSE) {
        const char *lf = memchr(buf + pos, '\n', n - pos);
        if (!lf) {
            if (n < VITALS_HTTP_HEAD_MAX)
                return VITALS_HTTP_HEAD_MORE;
            return first ? VITALS_HTTP_HEAD_LONG_URI : VITALS_HTTP_HEAD_TOO_LARGE;
        }
        size_t at = (size_t)(lf - buf);
        size_t line = at - pos - (at > pos && buf[at - 1] == '\r');
        pos = at + 1;
        if (line == 0) {
            if (first)
                return VITALS_HTTP_HEAD_BAD; /* a request starts with its request line */
            *end = pos;
            return VITALS_HTTP_HEAD_DONE;
        }
    }
}

/* "METHOD SP /target SP HTTP/d.d", cut into its three strings. */
static gboolean parse_request_line(char *line, vitals_http_head *head)
{
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2)
        return FALSE;
    *sp1 = *sp2 = '\0';
    head->method = line;
    head->target = sp1 + 1;
    head->version = sp2 + 1;
    if (!is_token(head->method) || head->target[0] != '/')
        return FALSE;
    for (const char *p = head->target; *p; p++)
        if (!is_visible((unsigned char)*p))
            return FALSE;
    const char *v = head->version;
    return strlen(v) == 8 && strncmp(v, "HTTP/", 5) == 0 && g_ascii_isdigit(v[5]) && v[6] == '.' &&
           g_ascii_isdigit(v[7]);
}

/* "name: value", cut into the field's two strings. */
static vitals_http_head_result parse_field(char *line, vitals_http_head *head)
{
    char *colon = strchr(line, ':');
    if (!colon)
        return VITALS_HTTP_HEAD_BAD;
    *colon = '\0';
    /* A blank first (obsolete folding) or before the colon fails here too. */
    if (!is_token(line))
        return VITALS_HTTP_HEAD_BAD;
    char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        value[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!is_visible((unsigned char)value[i]) && value[i] != ' ' && value[i] != '\t')
            return VITALS_HTTP_HEAD_BAD;
    if (head->nfields == VITALS_HTTP_HEAD_FIELDS)
        return VITALS_HTTP_HEAD_TOO_LARGE;
    head->fields[head->nfields++] = (vitals_http_field){line, value};
    return VITALS_HTTP_HEAD_DONE;
}

vitals_http_head_result vitals_http_head_parse(const char *buf, size_t len, vitals_http_head *head)
{
    size_t end = 0;
    vitals_http_head_result r = find_end(buf, len, &end);
    if (r != VITALS_HTTP_HEAD_DONE)
        return r;
    head->len = end;
    head->nfields = 0;
    /* A NUL would cut a string short; a CR must end a line. */
    if (memchr(buf, '\0', end))
        return VITALS_HTTP_HEAD_BAD;
    memcpy(head->text, buf, end);
    head->text[end] = '\0';
    char *line = head->text;
    for (gboolean first = TRUE;; first = FALSE) {
        char *lf = strchr(line, '\n');
        *lf = '\0';
        if (lf > line && lf[-1] == '\r')
            lf[-1] = '\0';
        if (strchr(line, '\r'))
            return VITALS_HTTP_HEAD_BAD;
        if (!line[0])
            return VITALS_HTTP_HEAD_DONE; /* the blank line */
        if (first) {
            if (!parse_request_line(line, head))
                return VITALS_HTTP_HEAD_BAD;
        } else if ((r = parse_field(line, head)) != VITALS_HTTP_HEAD_DONE) {
            return r;
        }
        line = lf + 1;
    }
}

const char *vitals_http_head_field(const vitals_http_head *head, const char *name)
{
    for (size_t i = 0; i < head->nfields; i++)
        if (g_ascii_strcasecmp(head->fields[i].name, name) == 0)
            return head->fields[i].value;
    return NULL;
}

/* s[0..len) decoded as libmicrohttpd decodes query parts: '+' is a blank,
 * %XX a byte, and a '%' not followed by two hex digits stays as it is. */
static char *query_decode(const char *s, size_t len)
{
    char *out = g_malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) &&
                   g_ascii_isxdigit(s[i + 2])) {
            out[o++] = (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *vitals_http_query_param(const char *target, const char *name, char **value)
{
    if (value)
        *value = NULL;
    const char *q = strchr(target, '?');
    if (!q)
        return NULL;
    const char *why = NULL;
    guint seen = 0;
    for (const char *part = q + 1; *part && !why;) {
        size_t part_len = strcspn(part, "&");
        const char *eq = memchr(part, '=', part_len);
        char *key = query_decode(part, eq ? (size_t)(eq - part) : part_len);
        /* A decoded %00 ends the name, as it does for libmicrohttpd's strcmp. */
        if (strcmp(key, name) == 0) {
            char *v = eq ? query_decode(eq + 1, part_len - (size_t)(eq + 1 - part)) : NULL;
            if (++seen == 1 && value)
                *value = g_strdup(v);
            if (!v)
                why = "needs a value (name=value)";
            else if (seen > 1)
                why = "is given more than once";
            else if (!g_utf8_validate(v, -1, NULL))
                why = "is not UTF-8 text";
            g_free(v);
        }
        g_free(key);
        part += part_len;
        if (*part == '&')
            part++;
    }
    return why;
}
