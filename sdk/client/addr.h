/*
 * addr.h — where the vitals client sends: parsing "host:port", resolving it
 * once, and opening non-blocking UDP sockets connected to it.  Internal to
 * sdk/client (hidden in the shared library).
 */
#ifndef VITALS_CLIENT_ADDR_H
#define VITALS_CLIENT_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* The port used when the address names none. */
#define VITALS_CLIENT_DEFAULT_PORT "8125"

/*
 * Splits `addr` into `host` (host_size bytes) and `port` (6 bytes):
 * "host:port", "host", "[v6]:port", "[v6]", or a bare IPv6 literal (two
 * colons or more).  The port must be 1..65535 in decimal; without one it is
 * VITALS_CLIENT_DEFAULT_PORT.  Returns 0, or -1 when `addr` is malformed.
 */
int vitals_client_parse_addr(const char *addr, char *host, size_t host_size, char *port);

/*
 * Resolves host:port (may block, in getaddrinfo) and returns a UDP socket
 * (non-blocking, close-on-exec) connected to the first address that takes
 * it, which is stored in *peer, *peer_len.  Returns -1 with errno set:
 * EADDRNOTAVAIL when the name does not resolve or no address connects.
 */
int vitals_client_connect(const char *host, const char *port, struct sockaddr_storage *peer,
                          socklen_t *peer_len);

/* Another socket like vitals_client_connect's, connected to `peer`; never
 * blocks.  Returns -1 with errno on failure. */
int vitals_client_socket(const struct sockaddr_storage *peer, socklen_t peer_len);

#endif
