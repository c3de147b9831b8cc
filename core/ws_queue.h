/*
 * ws_queue.h — framed WebSocket messages shared between clients, and one
 * client's bounded queue of them.
 *
 * A broadcast is framed once into a reference-counted message; each
 * client's queue holds references, so 10,000 clients cost one copy of a
 * sample.  The queue's byte budget is what a client that does not read can
 * cost the host: samples are superseded by newer ones (only the newest
 * waits), and replies the client asked for but never reads end the client.
 * The queue writes itself to a non-blocking socket; it knows nothing of
 * epoll, the hub or HTTP.
 */
#ifndef VITALS_WS_QUEUE_H
#define VITALS_WS_QUEUE_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "ws_codec.h"

/* One framed server message (header + payload), shared by reference. */
typedef struct vitals_ws_msg {
    gint refs;
    uint64_t seq;       /* sample sequence, 0 for anything else */
    gboolean droppable; /* a sample: a newer one supersedes it */
    size_t len;
    uint8_t bytes[];
} vitals_ws_msg;

/* A whole unfragmented frame of `opcode` around payload[0..len) (copied). */
vitals_ws_msg *vitals_ws_msg_new(ws_opcode opcode, const void *payload, size_t len, uint64_t seq,
                                 gboolean droppable);
/* A close frame with `code` (0: none) and an optional reason. */
vitals_ws_msg *vitals_ws_msg_close(uint16_t code, const char *reason);
void vitals_ws_msg_unref(vitals_ws_msg *m);

typedef struct vitals_ws_queue {
    GQueue msgs;        /* vitals_ws_msg*, oldest first */
    size_t head_sent;   /* bytes of the head already written */
    size_t bytes;       /* total length of the queued messages */
    size_t budget;      /* what the queue may hold (samples beyond it are dropped) */
    guint64 dropped;    /* samples superseded before they went out */
} vitals_ws_queue;

typedef enum {
    VITALS_WS_QUEUED,   /* a reference was queued */
    VITALS_WS_OVERFLOW  /* replies alone exceed 4 budgets: drop the client */
} vitals_ws_push_result;

void vitals_ws_queue_init(vitals_ws_queue *q, size_t budget);
/* Releases every queued reference. */
void vitals_ws_queue_clear(vitals_ws_queue *q);

/*
 * Queues a reference to m.  When a sample does not fit the budget, every
 * queued sample that has not started to go out is dropped first: a client
 * that falls a budget behind gets only the newest sample when it catches
 * up, and its memory stays within one budget plus its pending replies.
 */
vitals_ws_push_result vitals_ws_queue_push(vitals_ws_queue *q, vitals_ws_msg *m);

typedef enum {
    VITALS_WS_SENT_ALL,  /* the queue is empty */
    VITALS_WS_SENT_SOME, /* the socket is full; wait for EPOLLOUT */
    VITALS_WS_SEND_ERROR /* errno says why; the connection is dead */
} vitals_ws_send_result;

/* Writes what the non-blocking socket takes (MSG_NOSIGNAL).  *progress is
 * set TRUE when at least one byte went out. */
vitals_ws_send_result vitals_ws_queue_send(vitals_ws_queue *q, int fd, gboolean *progress);

#endif
