/*
 * ws_queue.c — shared framed messages and a client's bounded send queue.
 *
 * Why it exists: the hub fans one message out to thousands of sockets, and
 * what a slow or stalled client may cost must be decided in one place, with
 * the rule testable without sockets: samples are superseded (the newest
 * one wins), replies are kept until they overflow four budgets.
 */
#include "ws_queue.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

vitals_ws_msg *vitals_ws_msg_new(ws_opcode opcode, const void *payload, size_t len, uint64_t seq,
                                 gboolean droppable)
{
    uint8_t header[WS_MAX_HEADER];
    size_t header_len = ws_frame_header(header, true, opcode, len);
    vitals_ws_msg *m = g_malloc(sizeof *m + header_len + len);
    m->refs = 1;
    m->seq = seq;
    m->droppable = droppable;
    m->len = header_len + len;
    memcpy(m->bytes, header, header_len);
    if (len)
        memcpy(m->bytes + header_len, payload, len);
    return m;
}

vitals_ws_msg *vitals_ws_msg_close(uint16_t code, const char *reason)
{
    uint8_t frame[WS_MAX_HEADER + 125];
    size_t len = ws_close_frame(frame, code, reason);
    vitals_ws_msg *m = g_malloc(sizeof *m + len);
    m->refs = 1;
    m->seq = 0;
    m->droppable = FALSE;
    m->len = len;
    memcpy(m->bytes, frame, len);
    return m;
}

void vitals_ws_msg_unref(vitals_ws_msg *m)
{
    if (g_atomic_int_dec_and_test(&m->refs))
        g_free(m);
}

void vitals_ws_queue_init(vitals_ws_queue *q, size_t budget)
{
    memset(q, 0, sizeof *q);
    g_queue_init(&q->msgs);
    q->budget = budget;
}

void vitals_ws_queue_clear(vitals_ws_queue *q)
{
    vitals_ws_msg *m;
    while ((m = g_queue_pop_head(&q->msgs)))
        vitals_ws_msg_unref(m);
    q->bytes = q->head_sent = 0;
}

/* Drops every queued sample that has not started to go out. */
static void drop_samples(vitals_ws_queue *q)
{
    GList *l = g_queue_peek_head_link(&q->msgs);
    if (l && q->head_sent > 0)
        l = l->next; /* the head is half written: it must finish */
    while (l) {
        GList *next = l->next;
        vitals_ws_msg *m = l->data;
        if (m->droppable) {
            q->bytes -= m->len;
            q->dropped++;
            g_queue_delete_link(&q->msgs, l);
            vitals_ws_msg_unref(m);
        }
        l = next;
    }
}

vitals_ws_push_result vitals_ws_queue_push(vitals_ws_queue *q, vitals_ws_msg *m)
{
    if (m->droppable && q->bytes + m->len > q->budget)
        drop_samples(q);
    /* Only replies the client asked for can pile up past the budget now (a
     * big hello alone is fine: it is what an empty queue starts with). */
    if (!m->droppable && q->bytes > 4 * q->budget)
        return VITALS_WS_OVERFLOW;
    g_atomic_int_inc(&m->refs);
    g_queue_push_tail(&q->msgs, m);
    q->bytes += m->len;
    return VITALS_WS_QUEUED;
}

vitals_ws_send_result vitals_ws_queue_send(vitals_ws_queue *q, int fd, gboolean *progress)
{
    vitals_ws_msg *m;
    while ((m = g_queue_peek_head(&q->msgs))) {
        ssize_t n = send(fd, m->bytes + q->head_sent, m->len - q->head_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? VITALS_WS_SENT_SOME
                                                           : VITALS_WS_SEND_ERROR;
        }
        if (n > 0)
            *progress = TRUE;
        q->head_sent += (size_t)n;
        if (q->head_sent == m->len) {
            g_queue_pop_head(&q->msgs);
            q->bytes -= m->len;
            q->head_sent = 0;
            vitals_ws_msg_unref(m);
        }
    }
    return VITALS_WS_SENT_ALL;
}
