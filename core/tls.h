/*
 * tls.h — HTTPS and wss:// for the host: the [host] tls_cert and tls_key
 * PEM files, read and checked once at start, handed to libmicrohttpd
 * (which does TLS through GnuTLS) as an option array.
 */
#ifndef VITALS_TLS_H
#define VITALS_TLS_H

#include <glib.h>
#include <microhttpd.h>

#include "config.h"

typedef struct vitals_tls vitals_tls;

/*
 * Reads the certificate chain and private key named by [host] tls_cert and
 * tls_key, and checks that GnuTLS takes them and that they belong together.
 * TRUE with *out NULL when neither key is set (plain HTTP); TRUE with *out
 * set when both are; FALSE with `error` naming the file, line and key
 * ("vitals.ini:4: key 'tls_cert' in [host]: cannot read '/x.pem': No such
 * file or directory") when one is set without the other, a file cannot be
 * read, or GnuTLS refuses the pair.  Encrypted keys are not supported.
 */
gboolean vitals_tls_load(const vitals_config *cfg, vitals_tls **out, GError **error);

/* MHD_USE_TLS when `tls` is not NULL, else 0: OR it into the daemon flags. */
unsigned int vitals_tls_flags(const vitals_tls *tls);

/* The daemon options for MHD_OPTION_ARRAY: the PEM texts, or only
 * MHD_OPTION_END when `tls` is NULL.  Valid while `tls` lives. */
const struct MHD_OptionItem *vitals_tls_options(const vitals_tls *tls);

/* Frees `tls` (NULL is fine), wiping the key from memory.  Call it only
 * after the daemon that used the options has stopped. */
void vitals_tls_free(vitals_tls *tls);

#endif
