/*
 * tls.c — the TLS certificate and key of the HTTP server.
 *
 * Why a module of its own: libmicrohttpd takes the PEM texts in memory and,
 * when they are wrong, only fails to start with no word of what is wrong.
 * Reading the files here, before the daemon starts, and handing the pair to
 * GnuTLS (the library libmicrohttpd itself uses) turns every mistake into a
 * message naming the config file, line and key, and what GnuTLS objected
 * to.  http.c then needs only a flag and an option array.
 *
 * HTTPS works with any libmicrohttpd; WebSocket over its TLS does not scale
 * before 1.0 (see TLS_WS_GOOD_MHD), so the host says so when it starts with
 * TLS on an older one, and docs/tls.md recommends a reverse proxy there.
 */
#include "tls.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#include "config_private.h"
#include "log.h"

/* libmicrohttpd releases before this forward an upgraded (WebSocket)
 * connection over TLS through an 8-byte emergency buffer: its connection
 * memory pool is always used up by then, whatever
 * MHD_OPTION_CONNECTION_MEMORY_LIMIT says (measured with 0.9.75 at 16 KiB
 * to 256 KiB: every TLS record carried 4 bytes).  Later releases free the
 * request's buffers first.  See docs/tls.md. */
#define TLS_WS_GOOD_MHD 0x01000000u /* 1.0.0, as MHD_VERSION encodes it */

struct vitals_tls {
    char *cert;  /* PEM text of the certificate chain */
    char *key;   /* PEM text of the private key */
    gsize key_len;
    struct MHD_OptionItem options[3];
};

/* Sets `error` for key `key` of [host]: "file:line: key 'k' in [host]: <what>". */
static void tls_error(const vitals_config *cfg, const char *key, GError **error,
                      const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void tls_error(const vitals_config *cfg, const char *key, GError **error,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *at = config_where(cfg, "host", key);
    g_set_error(error, VITALS_CONFIG_ERROR, VITALS_CONFIG_ERROR_VALUE, "%s: key '%s' in [host]: %s",
                at, key, what);
    g_free(at);
    g_free(what);
}

/* Reads the PEM file `path` of key `key`; NULL with `error` set. */
static char *read_pem(const vitals_config *cfg, const char *key, const char *path, gsize *len,
                      GError **error)
{
    char *text = NULL;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, len, &e)) {
        tls_error(cfg, key, error, "cannot read '%s': %s", path, e->message);
        g_error_free(e);
        return NULL;
    }
    if (strlen(text) != *len || !strstr(text, "-----BEGIN ")) {
        tls_error(cfg, key, error, "'%s' is not a PEM file (expected a \"-----BEGIN ...\" block)",
                  path);
        g_free(text);
        return NULL;
    }
    return text;
}

/* Checks that GnuTLS takes the pair, as libmicrohttpd will; FALSE with
 * `error` set, blaming the key or the certificate as GnuTLS does. */
static gboolean check_pair(const vitals_config *cfg, const vitals_tls *tls, GError **error)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0) {
        tls_error(cfg, "tls_cert", error, "GnuTLS cannot allocate credentials");
        return FALSE;
    }
    gnutls_datum_t cert = {(unsigned char *)tls->cert, (unsigned int)strlen(tls->cert)};
    gnutls_datum_t key = {(unsigned char *)tls->key, (unsigned int)tls->key_len};
    int rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (rc >= 0)
        return TRUE;
    /* GnuTLS names the failing half only through its error code. */
    gboolean key_fault = rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH || rc == GNUTLS_E_DECRYPTION_FAILED ||
                         rc == GNUTLS_E_PK_INVALID_PRIVKEY;
    const char *which = key_fault ? "tls_key" : "tls_cert";
    tls_error(cfg, which, error, "'%s' with '%s': %s (GnuTLS)", cfg->tls_cert, cfg->tls_key,
              gnutls_strerror(rc));
    return FALSE;
}

/* The running libmicrohttpd's version as MHD_VERSION encodes it
 * (0x00097500 for 0.9.75), or 0 when it cannot be read. */
static unsigned int mhd_version(void)
{
    unsigned int major = 0, minor = 0, micro = 0;
    const char *v = MHD_get_version();
    if (!v || sscanf(v, "%u.%u.%u", &major, &minor, &micro) < 2)
        return 0;
    /* MHD_VERSION writes each number's decimal digits as hex digits. */
    unsigned int parts[3] = {major, minor, micro}, out = 0;
    for (int i = 0; i < 3; i++)
        out = (out << 8) | ((parts[i] / 10 % 10) << 4) | (parts[i] % 10);
    return out << 8;
}

/* See tls.h. */
gboolean vitals_tls_load(const vitals_config *cfg, vitals_tls **out, GError **error)
{
    *out = NULL;
    if (!cfg->tls_cert && !cfg->tls_key)
        return TRUE;
    if (!cfg->tls_cert || !cfg->tls_key) {
        const char *set = cfg->tls_cert ? "tls_cert" : "tls_key";
        tls_error(cfg, set, error, "set without %s; set both (PEM files) or neither",
                  cfg->tls_cert ? "tls_key" : "tls_cert");
        return FALSE;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        tls_error(cfg, "tls_cert", error, "this libmicrohttpd (%s) was built without TLS; "
                  "serve TLS from a reverse proxy (docs/tls.md)", MHD_get_version());
        return FALSE;
    }
    vitals_tls *tls = g_new0(vitals_tls, 1);
    gsize cert_len = 0;
    tls->cert = read_pem(cfg, "tls_cert", cfg->tls_cert, &cert_len, error);
    if (tls->cert)
        tls->key = read_pem(cfg, "tls_key", cfg->tls_key, &tls->key_len, error);
    if (!tls->cert || !tls->key || !check_pair(cfg, tls, error)) {
        vitals_tls_free(tls);
        return FALSE;
    }
    /* Pointer options take their value in ptr_value (libmicrohttpd docs). */
    tls->options[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert};
    tls->options[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key};
    tls->options[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (mhd_version() < TLS_WS_GOOD_MHD) {
        char *at = config_where(cfg, "host", "tls_cert");
        vitals_log(VITALS_LOG_WARN, "tls",
                   "%s: libmicrohttpd %s carries WebSocket over TLS 4 bytes per TLS record: fine "
                   "for a few dashboards, but many clients or large messages starve the HTTP "
                   "thread; for more, serve TLS from a reverse proxy (docs/tls.md)",
                   at, MHD_get_version());
        g_free(at);
    }
    *out = tls;
    return TRUE;
}

/* See tls.h. */
unsigned int vitals_tls_flags(const vitals_tls *tls)
{
    return tls ? (unsigned int)MHD_USE_TLS : 0u;
}

/* See tls.h. */
const struct MHD_OptionItem *vitals_tls_options(const vitals_tls *tls)
{
    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    return tls ? tls->options : none;
}

/* See tls.h. */
void vitals_tls_free(vitals_tls *tls)
{
    if (!tls)
        return;
    if (tls->key)
        memset(tls->key, 0, tls->key_len); /* a private key: leave no copy behind */
    g_free(tls->key);
    g_free(tls->cert);
    g_free(tls);
}
