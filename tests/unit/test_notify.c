/*
 * test_notify.c — core/notify.c: "READY=1" and "STOPPING=1" reach the
 * AF_UNIX datagram socket named by $NOTIFY_SOCKET (a path or an abstract
 * '@' name), and nothing happens without the variable.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "run_suite.h"

/* A bound datagram socket standing in for systemd's notify socket. */
typedef struct listener {
    int fd;
    char dir[64];   /* temp dir holding the socket file, "" when abstract */
    char path[128]; /* the value $NOTIFY_SOCKET gets */
} listener;

/* Binds `l` to a socket file in a fresh temp dir, or to a unique abstract
 * name when `abstract`; fails the test on any error. */
static void listener_open(listener *l, int abstract)
{
    memset(l, 0, sizeof *l);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len;
    if (abstract) {
        snprintf(l->path, sizeof l->path, "@vitals-test-notify-%ld", (long)getpid());
        size_t n = strlen(l->path);
        memcpy(addr.sun_path, l->path, n);
        addr.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        snprintf(l->dir, sizeof l->dir, "/tmp/vitals-notify-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(l->dir));
        snprintf(l->path, sizeof l->path, "%s/notify", l->dir);
        memcpy(addr.sun_path, l->path, strlen(l->path) + 1);
        len = sizeof addr;
    }
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(l->fd, 0);
    ck_assert_msg(bind(l->fd, (struct sockaddr *)&addr, len) == 0, "bind %s: %s", l->path,
                  strerror(errno));
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", l->path, 1), 0);
}

/* Receives one datagram (waiting at most 5 s) into buf as a string. */
static void listener_recv(listener *l, char *buf, size_t size)
{
    struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
    ck_assert_msg(poll(&pfd, 1, 5000) == 1, "no datagram on %s", l->path);
    ssize_t n = recv(l->fd, buf, size - 1, 0);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
}

/* Closes the socket and removes its file and directory. */
static void listener_close(listener *l)
{
    close(l->fd);
    if (l->dir[0]) {
        unlink(l->path);
        rmdir(l->dir);
    }
    unsetenv("NOTIFY_SOCKET");
}

/* Both notifications arrive, in order and verbatim, at a socket file. */
START_TEST(test_ready_and_stopping_to_a_path)
{
    listener l;
    listener_open(&l, 0);
    char buf[256];
    vitals_notify_ready();
    listener_recv(&l, buf, sizeof buf);
    ck_assert_str_eq(buf, "READY=1");
    vitals_notify_stopping();
    listener_recv(&l, buf, sizeof buf);
    ck_assert_str_eq(buf, "STOPPING=1");
    listener_close(&l);
}
END_TEST

/* "@name" reaches the abstract socket "\0name"; several lines go as one datagram. */
START_TEST(test_abstract_name)
{
    listener l;
    listener_open(&l, 1);
    char buf[256];
    ck_assert_int_eq(vitals_notify("READY=1\nSTATUS=serving"), 1);
    listener_recv(&l, buf, sizeof buf);
    ck_assert_str_eq(buf, "READY=1\nSTATUS=serving");
    listener_close(&l);
}
END_TEST

/* Unset or empty $NOTIFY_SOCKET: 0, nothing sent, no warning needed. */
START_TEST(test_without_the_variable_nothing_happens)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(vitals_notify("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    ck_assert_int_eq(vitals_notify("READY=1"), 0);
    vitals_notify_ready(); /* no-op, no crash */
    unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* A relative path, an over-long path, a bare "@" and a dead socket fail with -1. */
START_TEST(test_unusable_variable_fails_cleanly)
{
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    ck_assert_int_eq(vitals_notify("READY=1"), -1);
    ck_assert_int_eq(errno, EAFNOSUPPORT);

    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    ck_assert_int_eq(vitals_notify("READY=1"), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);

    setenv("NOTIFY_SOCKET", "@", 1);
    ck_assert_int_eq(vitals_notify("READY=1"), -1);
    ck_assert_int_eq(errno, EINVAL);

    /* Nobody listening: the send fails, the host only warns. */
    setenv("NOTIFY_SOCKET", "/nonexistent/vitals-notify", 1);
    ck_assert_int_eq(vitals_notify("READY=1"), -1);
    vitals_notify_ready();
    unsetenv("NOTIFY_SOCKET");
}
END_TEST

/* The suite of core/notify.c. */
static Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");
    tcase_add_test(tc, test_ready_and_stopping_to_a_path);
    tcase_add_test(tc, test_abstract_name);
    tcase_add_test(tc, test_without_the_variable_nothing_happens);
    tcase_add_test(tc, test_unusable_variable_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

/* Runs the suite; the exit status says whether every test passed. */
int main(void)
{
    return vitals_run_suite(notify_suite());
}
