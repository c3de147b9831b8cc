/*
 * test_ws_queue.c — unit tests for core/ws_queue.c: what a client that does
 * not read may cost, and writing a queue to a real (socketpair) socket.
 */
#include "ws_queue.h"
#include "run_suite.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A sample of `len` payload bytes with sequence `seq`. */
static vitals_ws_msg *sample(uint64_t seq, size_t len)
{
    char payload[4096];
    ck_assert_uint_le(len, sizeof payload);
    memset(payload, 's', len);
    return vitals_ws_msg_new(WS_OP_TEXT, payload, len, seq, TRUE);
}

static vitals_ws_msg *reply(size_t len)
{
    char payload[4096];
    memset(payload, 'r', len);
    return vitals_ws_msg_new(WS_OP_TEXT, payload, len, 0, FALSE);
}

/* Pushes m and drops the caller's reference. */
static vitals_ws_push_result push(vitals_ws_queue *q, vitals_ws_msg *m)
{
    vitals_ws_push_result r = vitals_ws_queue_push(q, m);
    vitals_ws_msg_unref(m);
    return r;
}

START_TEST(frames)
{
    vitals_ws_msg *m = vitals_ws_msg_new(WS_OP_TEXT, "hi", 2, 7, TRUE);
    ck_assert_uint_eq(m->len, 4);
    ck_assert_uint_eq(m->bytes[0], 0x81);
    ck_assert_uint_eq(m->bytes[1], 2);
    ck_assert_mem_eq(m->bytes + 2, "hi", 2);
    vitals_ws_msg_unref(m);
    m = vitals_ws_msg_close(1002, "bad");
    ck_assert_uint_eq(m->len, 7);
    ck_assert_uint_eq(m->bytes[0], 0x88);
    ck_assert_uint_eq((m->bytes[2] << 8) | m->bytes[3], 1002);
    ck_assert(!m->droppable);
    vitals_ws_msg_unref(m);
}
END_TEST

START_TEST(full_queue_keeps_only_the_newest_sample)
{
    vitals_ws_queue q;
    vitals_ws_queue_init(&q, 1000);
    ck_assert_int_eq(push(&q, reply(50)), VITALS_WS_QUEUED);  /* e.g. the hello */
    for (uint64_t seq = 1; seq <= 9; seq++)
        ck_assert_int_eq(push(&q, sample(seq, 98)), VITALS_WS_QUEUED); /* 100 bytes framed */
    ck_assert_uint_eq(q.bytes, 52 + 900);
    ck_assert_uint_eq(q.dropped, 0);
    /* The 10th does not fit: all queued samples go, the reply stays. */
    ck_assert_int_eq(push(&q, sample(10, 98)), VITALS_WS_QUEUED);
    ck_assert_uint_eq(g_queue_get_length(&q.msgs), 2);
    ck_assert_uint_eq(q.dropped, 9);
    ck_assert_uint_eq(q.bytes, 52 + 100);
    vitals_ws_msg *head = g_queue_peek_head(&q.msgs), *tail = g_queue_peek_tail(&q.msgs);
    ck_assert(!head->droppable);
    ck_assert_uint_eq(tail->seq, 10);
    /* However long it goes on, the queue never holds more than its budget
     * in samples. */
    for (uint64_t seq = 11; seq <= 1000; seq++) {
        push(&q, sample(seq, 98));
        ck_assert_uint_le(q.bytes, 1000);
    }
    vitals_ws_queue_clear(&q);
    ck_assert_uint_eq(q.bytes, 0);
    ck_assert(g_queue_is_empty(&q.msgs));
}
END_TEST

START_TEST(half_sent_head_is_kept)
{
    vitals_ws_queue q;
    vitals_ws_queue_init(&q, 300);
    push(&q, sample(1, 98));
    push(&q, sample(2, 98));
    q.head_sent = 10; /* as if a send() took 10 bytes of sample 1 */
    push(&q, sample(3, 98));
    push(&q, sample(4, 98)); /* does not fit: sample 2 and 3 go, 1 must finish */
    ck_assert_uint_eq(g_queue_get_length(&q.msgs), 2);
    ck_assert_uint_eq(((vitals_ws_msg *)g_queue_peek_head(&q.msgs))->seq, 1);
    ck_assert_uint_eq(((vitals_ws_msg *)g_queue_peek_tail(&q.msgs))->seq, 4);
    vitals_ws_queue_clear(&q);
}
END_TEST

START_TEST(unread_replies_overflow)
{
    vitals_ws_queue q;
    vitals_ws_queue_init(&q, 1000);
    int queued = 0;
    while (push(&q, reply(496)) == VITALS_WS_QUEUED) /* 500 bytes framed */
        queued++;
    /* Replies are never dropped, so past four budgets the client must go. */
    ck_assert_int_eq(queued, 9);
    ck_assert_uint_gt(q.bytes, 4000);
    vitals_ws_queue_clear(&q);
}
END_TEST

START_TEST(send_to_socket)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    vitals_ws_queue q;
    vitals_ws_queue_init(&q, 1 << 20);

    push(&q, sample(1, 98));
    gboolean progress = FALSE;
    ck_assert_int_eq(vitals_ws_queue_send(&q, sv[0], &progress), VITALS_WS_SENT_ALL);
    ck_assert(progress);
    char buf[8192];
    ck_assert_int_eq(read(sv[1], buf, sizeof buf), 100);

    /* A peer that does not read: the socket fills, then takes nothing. */
    for (uint64_t seq = 2; seq < 2000; seq++)
        push(&q, sample(seq, 4000));
    progress = FALSE;
    ck_assert_int_eq(vitals_ws_queue_send(&q, sv[0], &progress), VITALS_WS_SENT_SOME);
    ck_assert(progress);
    progress = FALSE;
    ck_assert_int_eq(vitals_ws_queue_send(&q, sv[0], &progress), VITALS_WS_SENT_SOME);
    ck_assert(!progress);
    ck_assert(!g_queue_is_empty(&q.msgs));

    /* A peer that is gone: an error, and no SIGPIPE (MSG_NOSIGNAL). */
    close(sv[1]);
    progress = FALSE;
    ck_assert_int_eq(vitals_ws_queue_send(&q, sv[0], &progress), VITALS_WS_SEND_ERROR);
    ck_assert(errno == EPIPE || errno == ECONNRESET);
    vitals_ws_queue_clear(&q);
    close(sv[0]);
}
END_TEST

static Suite *ws_queue_suite(void)
{
    Suite *s = suite_create("ws_queue");
    TCase *tc = tcase_create("queue");
    tcase_add_test(tc, frames);
    tcase_add_test(tc, full_queue_keeps_only_the_newest_sample);
    tcase_add_test(tc, half_sent_head_is_kept);
    tcase_add_test(tc, unread_replies_overflow);
    tcase_add_test(tc, send_to_socket);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vitals_run_suite(ws_queue_suite());
}
