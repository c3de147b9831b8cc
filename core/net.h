/*
 * net.h — the socket chores the HTTP server and the UDP ingest share:
 * resolving and binding an address, the port a socket got, whether an
 * address is loopback, and a peer's "host:port" for logs.  Callers phrase their own errors.
 */
#ifndef VITALS_NET_H
#define VITALS_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Resolves `host` (a literal or a name) and binds a CLOEXEC socket of
 * `type` (SOCK_STREAM sockets also get SO_REUSEADDR and listen).  Returns
 * the fd, or -1: with *gai_error set (non-zero) when the address does not
 * resolve, else with errno from socket/bind/listen.
 */
int vitals_net_bind(const char *host, int port, int type, int *gai_error);

/* The local port of a bound socket, 0 if unknown. */
uint16_t vitals_net_port(int fd);

/* 1 if every address `host` resolves to is loopback (127.0.0.0/8, ::1),
 * 0 if any is not (0.0.0.0 and :: are not), -1 if it does not resolve. */
int vitals_net_is_loopback(const char *host);

/* "host:port" of `addr` (numeric), or "?" when it cannot be written. */
void vitals_net_name(const struct sockaddr *addr, socklen_t len, char *out, size_t size);

#endif
