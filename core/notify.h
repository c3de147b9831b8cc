/*
 * notify.h — readiness and stopping notifications for a service manager,
 * the sd_notify(3) protocol without libsystemd.
 *
 * Under a systemd unit with Type=notify, $NOTIFY_SOCKET names an AF_UNIX
 * datagram socket (a path, or an abstract name written with a leading '@').
 * The host sends "READY=1" once it is listening and "STOPPING=1" when it
 * begins to shut down.  Without $NOTIFY_SOCKET every call does nothing, so
 * the host runs the same by hand, under a supervisor or in the tests.
 */
#ifndef VITALS_NOTIFY_H
#define VITALS_NOTIFY_H

/*
 * Sends `state` (such as "READY=1", or several "KEY=VALUE" lines joined by
 * '\n') as one datagram to $NOTIFY_SOCKET.  Returns 1 when it was sent, 0
 * when $NOTIFY_SOCKET is unset or empty (nothing to do), -1 when the
 * variable is unusable (not a path or '@' name, or too long) or the send
 * failed; errno then says why.  Never blocks for long (a datagram to a
 * local socket) and never raises SIGPIPE.
 */
int vitals_notify(const char *state);

/* Tells the service manager the host is serving ("READY=1"); a failure is
 * logged once as a warning, since systemd would then time the start out. */
void vitals_notify_ready(void);

/* Tells the service manager the host is shutting down ("STOPPING=1"); a
 * failure is logged as a warning. */
void vitals_notify_stopping(void);

#endif
