/*
 * auth.h — who may use the host: the bearer token and the WebSocket Origin
 * check, as pure functions of header values (no HTTP library, no I/O), so
 * every rule is unit-tested on its own.
 */
#ifndef VITALS_AUTH_H
#define VITALS_AUTH_H

#include <glib.h>

/*
 * TRUE if `given` equals `secret`.  The time taken depends only on the
 * length of `given` (what the caller already knows), never on how much of
 * `secret` it matches, so the token cannot be guessed byte by byte from
 * response times.  FALSE for NULL or an empty secret.
 */
gboolean vitals_auth_equal(const char *secret, const char *given);

/*
 * TRUE if the request carries `token`: the Authorization header
 * ("Bearer <token>", scheme in any case) or the `token` query parameter
 * (either may be NULL).  Always TRUE when token is NULL (no token set).
 */
gboolean vitals_auth_check(const char *token, const char *authorization, const char *query_token);

/*
 * TRUE if a WebSocket handshake's Origin may connect: no Origin (not a
 * browser), the host's own origin (http:// or https:// followed by exactly
 * the Host header, any case), or one of `allowed` (a NULL-terminated list of
 * origins such as "https://dash.example.com", compared in any case; NULL for
 * none).  Guards against cross-site WebSocket hijacking: a page elsewhere
 * cannot make a visitor's browser read this host's stream.
 */
gboolean vitals_auth_origin_allowed(const char *origin, const char *host, const char *const *allowed);

/* Splits a comma-separated list of origins into a NULL-terminated vector
 * (blanks and trailing '/' removed, empty items skipped); g_strfreev it. */
char **vitals_auth_parse_origins(const char *list);

#endif
