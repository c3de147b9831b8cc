/*
 * addr.c — where the vitals client sends (see addr.h): the address syntax
 * of vitals_client_open(), name resolution, connected UDP sockets.  Kept
 * apart from client.c, which holds the hot path and the threads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

int vitals_client_parse_addr(const char *addr, char *host, size_t host_size, char *port)
{
    const char *h = addr, *p = NULL;
    size_t hlen;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || (end[1] != '\0' && end[1] != ':'))
            return -1;
        h = addr + 1;
        hlen = (size_t)(end - h);
        if (end[1] == ':')
            p = end + 2;
    } else {
        const char *colon = strchr(addr, ':');
        if (colon && !strchr(colon + 1, ':')) { /* host:port */
            hlen = (size_t)(colon - addr);
            p = colon + 1;
        } else {                                 /* host, or a bare IPv6 literal */
            hlen = strlen(addr);
        }
    }
    if (hlen == 0 || hlen >= host_size)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (!p) {
        strcpy(port, VITALS_CLIENT_DEFAULT_PORT);
        return 0;
    }
    unsigned long v = 0;
    size_t n = 0;
    for (; p[n]; n++) {
        if (p[n] < '0' || p[n] > '9' || n >= 5)
            return -1;
        v = v * 10 + (unsigned long)(p[n] - '0');
    }
    if (n == 0 || v == 0 || v > 65535)
        return -1;
    memcpy(port, p, n + 1);
    return 0;
}

/* A non-blocking UDP socket of `family` connected to sa; -1 with errno. */
static int connected_socket(int family, const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, sa, len) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        fd = -1;
    }
    return fd;
}

int vitals_client_connect(const char *host, const char *port, struct sockaddr_storage *peer,
                          socklen_t *peer_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        errno = rc == EAI_SYSTEM ? errno : rc == EAI_MEMORY ? ENOMEM : EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1, err = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof *peer)
            continue;
        fd = connected_socket(ai->ai_family, ai->ai_addr, ai->ai_addrlen);
        if (fd < 0) {
            err = errno;
        } else {
            memcpy(peer, ai->ai_addr, ai->ai_addrlen);
            *peer_len = ai->ai_addrlen;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = err;
    return fd;
}

int vitals_client_socket(const struct sockaddr_storage *peer, socklen_t peer_len)
{
    return connected_socket(peer->ss_family, (const struct sockaddr *)peer, peer_len);
}
