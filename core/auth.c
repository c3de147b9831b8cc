/*
 * auth.c — the bearer token and the WebSocket Origin check.
 *
 * Why it exists: http.c decides *where* a token is needed; this file decides
 * *whether* a request has it, with no libmicrohttpd in sight, so the rules
 * (constant-time compare, header syntax, origin matching) are tested alone.
 */
#include "auth.h"

#include <string.h>

gboolean vitals_auth_equal(const char *secret, const char *given)
{
    if (!secret || !given || !secret[0])
        return FALSE;
    size_t n = strlen(secret), m = strlen(given);
    /* Walk all of `given`, folding every difference into one value: no early
     * exit, and the secret is indexed modulo its length so that a longer
     * guess reads no further.  volatile keeps the compiler from shortcutting. */
    volatile unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < m; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)secret[i % n];
    return diff == 0;
}

/* The credentials of "Bearer <token>" (RFC 6750 2.1), or NULL. */
static const char *bearer_credentials(const char *authorization)
{
    if (!authorization)
        return NULL;
    while (*authorization == ' ' || *authorization == '\t')
        authorization++;
    if (g_ascii_strncasecmp(authorization, "Bearer", 6) != 0 ||
        (authorization[6] != ' ' && authorization[6] != '\t'))
        return NULL;
    const char *p = authorization + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

gboolean vitals_auth_check(const char *token, const char *authorization, const char *query_token)
{
    if (!token)
        return TRUE;
    const char *bearer = bearer_credentials(authorization);
    if (bearer) {
        /* libmicrohttpd trims the header value's trailing blanks already;
         * trim here too so the function means the same on its own. */
        size_t len = strlen(bearer);
        while (len && (bearer[len - 1] == ' ' || bearer[len - 1] == '\t'))
            len--;
        char *given = g_strndup(bearer, len);
        gboolean ok = vitals_auth_equal(token, given);
        g_free(given);
        if (ok)
            return TRUE;
    }
    return query_token && vitals_auth_equal(token, query_token);
}

gboolean vitals_auth_origin_allowed(const char *origin, const char *host, const char *const *allowed)
{
    if (!origin)
        return TRUE;
    if (host && host[0]) {
        const char *rest = g_str_has_prefix(origin, "http://")    ? origin + 7
                           : g_str_has_prefix(origin, "https://") ? origin + 8
                                                                  : NULL;
        if (rest && g_ascii_strcasecmp(rest, host) == 0)
            return TRUE;
    }
    for (const char *const *a = allowed; a && *a; a++)
        if (g_ascii_strcasecmp(origin, *a) == 0)
            return TRUE;
    return FALSE;
}

char **vitals_auth_parse_origins(const char *list)
{
    GPtrArray *out = g_ptr_array_new();
    char **parts = g_strsplit(list ? list : "", ",", -1);
    for (char **p = parts; *p; p++) {
        char *item = g_strstrip(*p);
        size_t len = strlen(item);
        while (len && item[len - 1] == '/')
            item[--len] = '\0';
        if (len)
            g_ptr_array_add(out, g_strdup(item));
    }
    g_strfreev(parts);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}
