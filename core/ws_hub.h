/*
 * ws_hub.h — owns every upgraded WebSocket connection and fans samples out.
 *
 * One thread runs an epoll loop over the upgraded sockets.  The sampler
 * hands it each tick's message once (vitals_hub_broadcast); the hub frames
 * it once and queues the same bytes to every client.  Each client's queue is
 * bounded: a client that does not read loses old samples (it gets the
 * newest when it catches up) and is dropped after send_timeout, never costs
 * the host's memory, and never delays the others.  The number of clients is
 * capped (max_clients).  The hub knows nothing of HTTP: the HTTP layer
 * reserves a slot, then hands it a socket and a function that releases it.
 */
#ifndef VITALS_WS_HUB_H
#define VITALS_WS_HUB_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vitals_hub vitals_hub;

typedef struct vitals_hub_callbacks {
    void *user;
    /* The first message of a session (malloc'ed text), and the seq of the
     * newest sample it already contains, so that sample is not sent twice. */
    char *(*hello)(void *user, size_t *len, uint64_t *seq);
    /* The answer to {"type":"request_metrics"} (malloc'ed text). */
    char *(*metrics)(void *user, size_t *len);
} vitals_hub_callbacks;

typedef struct vitals_hub_options {
    size_t max_message;        /* largest client message accepted (bytes); 0: 64 KiB */
    size_t max_queue_bytes;    /* per client; beyond it only the newest sample waits; 0: 1 MiB */
    double ping_interval;      /* seconds between server pings */
    unsigned max_clients;      /* clients at once; 0: 10,000 */
    double send_timeout;       /* drop a client whose queue does not empty this long; 0: 30 s */
} vitals_hub_options;

/* Releases an adopted socket (close() it, or MHD_upgrade_action(CLOSE) for a
 * socket libmicrohttpd upgraded); called exactly once. */
typedef void (*vitals_hub_release_fn)(void *arg);

vitals_hub *vitals_hub_new(const vitals_hub_callbacks *callbacks, const vitals_hub_options *options);

/* Starts the hub's thread.  FALSE (with *error) if it cannot. */
gboolean vitals_hub_start(vitals_hub *hub, GError **error);

/*
 * Reserves a client slot before a handshake is answered: FALSE when
 * max_clients are connected or being connected (answer 503).  A reserved
 * slot is either handed over with vitals_hub_adopt or given back with
 * vitals_hub_unreserve.  Safe from any thread.
 */
gboolean vitals_hub_reserve(vitals_hub *hub);
void vitals_hub_unreserve(vitals_hub *hub);

/*
 * Takes over an upgraded connection and the slot reserved for it: the hub
 * reads, writes and finally calls release(arg) and frees the slot; the
 * caller never touches fd again.  `extra` holds bytes the HTTP layer already
 * read past the handshake (copied).  Safe from any thread; never blocks on
 * the network.
 */
void vitals_hub_adopt(vitals_hub *hub, int fd, vitals_hub_release_fn release, void *arg,
                      const char *extra, size_t extra_len, const char *peer);

/*
 * Queues one text message to every client, framed once.  `seq` is the
 * sample's sequence number (0 for other messages).  Safe from any thread.
 */
void vitals_hub_broadcast(vitals_hub *hub, const char *text, size_t len, uint64_t seq);

guint vitals_hub_clients(vitals_hub *hub);

/* Sends every client a close frame (1001), waits up to `grace` seconds for
 * their replies, releases every connection and stops the thread. */
void vitals_hub_stop(vitals_hub *hub, double grace);
void vitals_hub_free(vitals_hub *hub);

#endif
