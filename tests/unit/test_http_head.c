/*
 * test_http_head.c — unit tests for core/http_head.c: which connections the
 * host answers itself (the peek), the request head of a WebSocket
 * handshake (forms, bounds, pieces), and the `token` query parameter,
 * decoded and judged as libmicrohttpd's path judges it.
 */
#include "http_head.h"
#include "run_suite.h"

#include <check.h>
#include <string.h>

static vitals_http_head head;

static vitals_http_head_result parse(const char *text)
{
    return vitals_http_head_parse(text, strlen(text), &head);
}

#define HANDSHAKE                                                                          \
    "GET /ws?token=abc HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nUpgrade: websocket\r\n"         \
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"               \
    "Sec-WebSocket-Version: 13\r\n\r\n"

START_TEST(peek_decides_from_eight_bytes)
{
    /* Prefixes of "GET /ws": not yet known, whatever follows later. */
    const char *more[] = {"", "G", "GE", "GET", "GET ", "GET /", "GET /w", "GET /ws"};
    for (size_t i = 0; i < G_N_ELEMENTS(more); i++)
        ck_assert_msg(vitals_http_peek_kind(more[i], strlen(more[i])) == VITALS_HTTP_PEEK_MORE,
                      "'%s'", more[i]);
    ck_assert_int_eq(vitals_http_peek_kind("GET /ws ", 8), VITALS_HTTP_PEEK_WS);
    ck_assert_int_eq(vitals_http_peek_kind("GET /ws?", 8), VITALS_HTTP_PEEK_WS);
    ck_assert_int_eq(vitals_http_peek_kind(HANDSHAKE, strlen(HANDSHAKE)), VITALS_HTTP_PEEK_WS);
    /* Everything else is libmicrohttpd's, as soon as it differs. */
    const char *other[] = {"P", "get /ws ", "HEAD /ws", "GET /wsx", "GET /ws/", "GET /w ",
                           "GET /api/v1/metrics HTTP/1.1", "\r\nGET /ws ", "GET  /ws", "POST /ws "};
    for (size_t i = 0; i < G_N_ELEMENTS(other); i++)
        ck_assert_msg(vitals_http_peek_kind(other[i], strlen(other[i])) == VITALS_HTTP_PEEK_OTHER,
                      "'%s'", other[i]);
}
END_TEST

START_TEST(parses_a_handshake)
{
    ck_assert_int_eq(parse(HANDSHAKE), VITALS_HTTP_HEAD_DONE);
    ck_assert_uint_eq(head.len, strlen(HANDSHAKE));
    ck_assert_str_eq(head.method, "GET");
    ck_assert_str_eq(head.target, "/ws?token=abc");
    ck_assert_str_eq(head.version, "HTTP/1.1");
    ck_assert_uint_eq(head.nfields, 5);
    /* Names in any case; the first of a repeated field. */
    ck_assert_str_eq(vitals_http_head_field(&head, "upgrade"), "websocket");
    ck_assert_str_eq(vitals_http_head_field(&head, "SEC-WEBSOCKET-KEY"), "dGhlIHNhbXBsZSBub25jZQ==");
    ck_assert_ptr_null(vitals_http_head_field(&head, "Origin"));
    ck_assert_int_eq(parse("GET /ws HTTP/1.1\r\nX: 1\r\nx: 2\r\n\r\n"), VITALS_HTTP_HEAD_DONE);
    ck_assert_str_eq(vitals_http_head_field(&head, "X"), "1");
}
END_TEST

START_TEST(values_trimmed_and_lines_ending_in_lf)
{
    ck_assert_int_eq(parse("GET /ws HTTP/1.1\nHost:x\nUpgrade: \t websocket \t\nEmpty:\n\n"),
                     VITALS_HTTP_HEAD_DONE);
    ck_assert_str_eq(vitals_http_head_field(&head, "Host"), "x");
    ck_assert_str_eq(vitals_http_head_field(&head, "Upgrade"), "websocket");
    ck_assert_str_eq(vitals_http_head_field(&head, "Empty"), "");
    /* Blanks inside a value stay; bytes >= 0x80 (obs-text) are kept. */
    ck_assert_int_eq(parse("GET /ws HTTP/1.1\r\nUser-Agent: a b\tc \xc3\xa9\r\n\r\n"),
                     VITALS_HTTP_HEAD_DONE);
    ck_assert_str_eq(vitals_http_head_field(&head, "User-Agent"), "a b\tc \xc3\xa9");
}
END_TEST

START_TEST(what_follows_the_head_is_left_alone)
{
    /* A client may send its first frame without waiting for the 101. */
    const char text[] = HANDSHAKE "\x81\x85\x01\x02\x03\x04 junk\r\n\r\n";
    ck_assert_int_eq(vitals_http_head_parse(text, sizeof text - 1, &head), VITALS_HTTP_HEAD_DONE);
    ck_assert_uint_eq(head.len, strlen(HANDSHAKE));
}
END_TEST

START_TEST(incomplete_heads_wait)
{
    const char *text = HANDSHAKE;
    /* Every cut of the head short of its blank line asks for more. */
    for (size_t n = 0; n < strlen(text); n++)
        ck_assert_msg(vitals_http_head_parse(text, n, &head) == VITALS_HTTP_HEAD_MORE, "cut at %zu", n);
    ck_assert_int_eq(vitals_http_head_parse(text, strlen(text), &head), VITALS_HTTP_HEAD_DONE);
}
END_TEST

START_TEST(malformed_heads_are_bad)
{
    const char *bad[] = {
        "\r\nGET /ws HTTP/1.1\r\n\r\n",                 /* a blank line first */
        "GET /ws\r\n\r\n",                              /* no version */
        "GET /ws HTTP/1.1 x\r\n\r\n",                   /* three spaces */
        "GET  /ws HTTP/1.1\r\n\r\n",                    /* two blanks */
        "GET ws HTTP/1.1\r\n\r\n",                      /* target not absolute-path */
        "GET /ws HTTP/11\r\n\r\n", "GET /ws http/1.1\r\n\r\n", "GET /ws HTTP/1.1.1\r\n\r\n",
        "G@T /ws HTTP/1.1\r\n\r\n",                     /* method not a token */
        "GET /w\x01s HTTP/1.1\r\n\r\n",                 /* control byte in the target */
        "GET /ws HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET /ws HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost : x\r\n\r\n",         /* blank before the colon */
        "GET /ws HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", /* obsolete folding */
        "GET /ws HTTP/1.1\r\nHost: x\ry\r\n\r\n",       /* a bare CR */
        "GET /ws HTTP/1.1\r\nHost: x\x7f\r\n\r\n",      /* DEL */
        "GET /ws HTTP/1.1\r\nHost: \x01\r\n\r\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(parse(bad[i]) == VITALS_HTTP_HEAD_BAD, "accepted: %s", bad[i]);
    /* A NUL byte would cut the strings short. */
    const char nul[] = "GET /ws HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    ck_assert_int_eq(vitals_http_head_parse(nul, sizeof nul - 1, &head), VITALS_HTTP_HEAD_BAD);
}
END_TEST

START_TEST(bounds_are_libmicrohttpds)
{
    GString *s = g_string_new("GET /ws?token=");
    /* A request line with no end within the bound: 414. */
    while (s->len < VITALS_HTTP_HEAD_MAX + 100)
        g_string_append_c(s, 'a');
    ck_assert_int_eq(vitals_http_head_parse(s->str, s->len, &head), VITALS_HTTP_HEAD_LONG_URI);
    ck_assert_int_eq(vitals_http_head_parse(s->str, VITALS_HTTP_HEAD_MAX, &head),
                     VITALS_HTTP_HEAD_LONG_URI);
    ck_assert_int_eq(vitals_http_head_parse(s->str, VITALS_HTTP_HEAD_MAX - 1, &head),
                     VITALS_HTTP_HEAD_MORE);
    /* Headers with no end within the bound: 431. */
    g_string_assign(s, "GET /ws HTTP/1.1\r\n");
    while (s->len < VITALS_HTTP_HEAD_MAX + 100)
        g_string_append(s, "X-Filler: 0123456789\r\n");
    g_string_append(s, "\r\n");
    ck_assert_int_eq(vitals_http_head_parse(s->str, s->len, &head), VITALS_HTTP_HEAD_TOO_LARGE);
    /* A head that ends exactly at the bound is fine, whatever follows. */
    g_string_assign(s, "GET /ws HTTP/1.1\r\nX-Pad: ");
    while (s->len < VITALS_HTTP_HEAD_MAX - 4)
        g_string_append_c(s, 'p');
    g_string_append(s, "\r\n\r\nmore");
    ck_assert_int_eq(vitals_http_head_parse(s->str, s->len, &head), VITALS_HTTP_HEAD_DONE);
    ck_assert_uint_eq(head.len, VITALS_HTTP_HEAD_MAX);
    /* Too many fields, though small: 431. */
    g_string_assign(s, "GET /ws HTTP/1.1\r\n");
    for (int i = 0; i <= VITALS_HTTP_HEAD_FIELDS; i++)
        g_string_append_printf(s, "X-%d: v\r\n", i);
    g_string_append(s, "\r\n");
    ck_assert_int_eq(vitals_http_head_parse(s->str, s->len, &head), VITALS_HTTP_HEAD_TOO_LARGE);
    g_string_free(s, TRUE);
}
END_TEST

START_TEST(query_token)
{
    char *v = NULL;
    ck_assert_ptr_null(vitals_http_query_param("/ws", "token", &v));
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(vitals_http_query_param("/ws?x=1&y", "token", &v));
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(vitals_http_query_param("/ws?token=abc", "token", &v));
    ck_assert_str_eq(v, "abc");
    g_free(v);
    /* Decoded as libmicrohttpd decodes: '+' a blank, %XX a byte, a stray '%' kept. */
    ck_assert_ptr_null(vitals_http_query_param("/ws?a=1&token=a%20b+c%2B%zz%4&b", "token", &v));
    ck_assert_str_eq(v, "a b c+%zz%4");
    g_free(v);
    /* The name is decoded too. */
    ck_assert_ptr_null(vitals_http_query_param("/ws?%74oken=t", "token", &v));
    ck_assert_str_eq(v, "t");
    g_free(v);
    ck_assert_ptr_null(vitals_http_query_param("/ws?token=", "token", &v));
    ck_assert_str_eq(v, "");
    g_free(v);
}
END_TEST

START_TEST(query_token_faults)
{
    char *v = NULL;
    ck_assert_str_eq(vitals_http_query_param("/ws?token", "token", &v), "needs a value (name=value)");
    ck_assert_ptr_null(v);
    ck_assert_str_eq(vitals_http_query_param("/ws?token=a&token=a", "token", &v),
                     "is given more than once");
    ck_assert_str_eq(v, "a"); /* the first one is still what the token check sees */
    g_free(v);
    ck_assert_str_eq(vitals_http_query_param("/ws?token=%ff%fe", "token", &v), "is not UTF-8 text");
    g_free(v);
    /* The first occurrence at fault decides, in order. */
    ck_assert_str_eq(vitals_http_query_param("/ws?token=a&token", "token", NULL),
                     "needs a value (name=value)");
    ck_assert_str_eq(vitals_http_query_param("/ws?token=%ff&token=a", "token", NULL),
                     "is not UTF-8 text");
    /* Other parameters are nobody's business here. */
    ck_assert_ptr_null(vitals_http_query_param("/ws?x&x=1&x=2&y=%ff", "token", NULL));
}
END_TEST

static Suite *http_head_suite(void)
{
    Suite *s = suite_create("http_head");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, peek_decides_from_eight_bytes);
    tcase_add_test(tc, parses_a_handshake);
    tcase_add_test(tc, values_trimmed_and_lines_ending_in_lf);
    tcase_add_test(tc, what_follows_the_head_is_left_alone);
    tcase_add_test(tc, incomplete_heads_wait);
    tcase_add_test(tc, malformed_heads_are_bad);
    tcase_add_test(tc, bounds_are_libmicrohttpds);
    tcase_add_test(tc, query_token);
    tcase_add_test(tc, query_token_faults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vitals_run_suite(http_head_suite());
}
