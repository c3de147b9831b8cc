/*
 * net.c — binding and naming sockets, once for every part of the host, and
 * telling a loopback address from one other machines can reach.
 */
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

int vitals_net_bind(const char *host, int port, int type, int *gai_error)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = type,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    *gai_error = getaddrinfo(host, service, &hints, &res);
    if (*gai_error != 0)
        return -1;
    int fd = socket(res->ai_family, type | SOCK_CLOEXEC, 0);
    if (fd >= 0 && type == SOCK_STREAM) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (fd >= 0 && (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
                    (type == SOCK_STREAM && listen(fd, 1024) != 0))) {
        int err = errno;
        close(fd);
        fd = -1;
        errno = err;
    }
    int err = errno;
    freeaddrinfo(res);
    errno = err;
    return fd;
}

uint16_t vitals_net_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void vitals_net_name(const struct sockaddr *addr, socklen_t len, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "", serv[8] = "";
    if (addr && getnameinfo(addr, len, host, sizeof host, serv, sizeof serv,
                            NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(out, size, "%s:%s", host, serv);
    else
        snprintf(out, size, "?");
}

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

int vitals_net_is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    if (!host || getaddrinfo(host, "0", &hints, &res) != 0)
        return -1;
    /* Every address the name stands for must be loopback: a name that also
     * resolves to a public address is not. */
    int loopback = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!addr_is_loopback(ai->ai_addr))
            loopback = 0;
    freeaddrinfo(res);
    return loopback;
}
