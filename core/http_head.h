/*
 * http_head.h — the head of an HTTP/1.1 request (request line and header
 * fields) read from raw bytes, and the one query parameter the host reads
 * before libmicrohttpd would (`token`).  Pure: no sockets, no
 * libmicrohttpd, so every rule is unit-tested on its own.
 *
 * Why it exists: WebSocket handshakes are answered by the host itself
 * (http_accept.c), so that an upgraded connection keeps no libmicrohttpd
 * memory pool for life.  The bytes of a connection's first request decide
 * who answers it (vitals_http_peek_kind); a `GET /ws` head is then parsed
 * here with the same bounds libmicrohttpd has (16 KiB, 414 / 431).
 */
#ifndef VITALS_HTTP_HEAD_H
#define VITALS_HTTP_HEAD_H

#include <glib.h>
#include <stddef.h>

/* The largest request head taken: what a connection's memory pool holds
 * for libmicrohttpd (CONNECTION_MEMORY in http.c), so both paths refuse
 * the same requests.  Browsers send 1-2 KiB. */
#define VITALS_HTTP_HEAD_MAX (16 * 1024)
/* Header fields kept; more is answered like a head that is too large. */
#define VITALS_HTTP_HEAD_FIELDS 100

/* Bytes that decide vitals_http_peek_kind: "GET /ws" and the next one. */
#define VITALS_HTTP_PEEK_LEN 8

typedef enum {
    VITALS_HTTP_PEEK_MORE,  /* a prefix of "GET /ws": wait for more bytes */
    VITALS_HTTP_PEEK_WS,    /* "GET /ws " or "GET /ws?": a handshake for the hub */
    VITALS_HTTP_PEEK_OTHER  /* anything else: libmicrohttpd's */
} vitals_http_peek;

/* Which of the three a connection whose first bytes are buf[0..len) is. */
vitals_http_peek vitals_http_peek_kind(const char *buf, size_t len);

typedef struct vitals_http_field {
    const char *name;  /* as sent (compare in any case) */
    const char *value; /* blanks around it removed */
} vitals_http_field;

typedef struct vitals_http_head {
    size_t len;          /* bytes of the head in the input, its blank line included */
    const char *method;  /* "GET" */
    const char *target;  /* "/ws?token=x" */
    const char *version; /* "HTTP/1.1" */
    vitals_http_field fields[VITALS_HTTP_HEAD_FIELDS];
    size_t nfields;
    char text[VITALS_HTTP_HEAD_MAX + 1]; /* the head, cut into the strings above */
} vitals_http_head;

typedef enum {
    VITALS_HTTP_HEAD_DONE,     /* *head is filled; head->len bytes were its head */
    VITALS_HTTP_HEAD_MORE,     /* no blank line yet, and room for one */
    VITALS_HTTP_HEAD_BAD,      /* not an HTTP/1.x request head: 400 */
    VITALS_HTTP_HEAD_LONG_URI, /* no end of the request line within the bound: 414 */
    VITALS_HTTP_HEAD_TOO_LARGE /* no end of the head within the bound, or too many fields: 431 */
} vitals_http_head_result;

/*
 * Parses the request head at the start of buf[0..len) (what follows it is
 * not looked at).  Lines end in CRLF or a bare LF; a field line that starts
 * with a blank (obsolete folding), has no colon, a blank before its colon,
 * a name that is not a token or a control character in its value is BAD,
 * as are a request line that is not "METHOD SP /target SP HTTP/d.d", and a
 * CR anywhere but before LF.  Only the first VITALS_HTTP_HEAD_MAX bytes are
 * ever read.
 */
vitals_http_head_result vitals_http_head_parse(const char *buf, size_t len, vitals_http_head *head);

/* The value of the first field called `name` (any case), or NULL. */
const char *vitals_http_head_field(const vitals_http_head *head, const char *name);

/*
 * Checks the query parameter `name` of a request target the way the host
 * checks it on every route (http.c, check_query): NULL when it is absent or
 * given once with a UTF-8 value, else why not, in check_query's words
 * ("needs a value (name=value)", "is given more than once", "is not UTF-8
 * text"), for the first occurrence at fault.  *value (when not NULL) gets
 * the first occurrence's value, decoded as libmicrohttpd decodes it ('+' is
 * a blank, %XX a byte), or NULL when absent or valueless; g_free it.
 */
const char *vitals_http_query_param(const char *target, const char *name, char **value);

#endif
