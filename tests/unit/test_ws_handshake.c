/*
 * test_ws_handshake.c — unit tests for core/ws_handshake.c: the checks of a
 * WebSocket opening handshake, each failure on its own and in the order
 * the HTTP layer reports them (upgrade, version, key, origin).
 */
#include "run_suite.h"
#include "ws_handshake.h"

#include <check.h>
#include <string.h>

/* RFC 6455 section 1.3's example key and its accept value. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static vitals_ws_request good(void)
{
    return (vitals_ws_request){.upgrade = "websocket", .connection = "Upgrade", .version = "13",
                               .key = KEY, .origin = NULL, .host = "127.0.0.1:8765"};
}

static vitals_ws_handshake_result check(const vitals_ws_request *req, const char *const *allowed)
{
    char accept[WS_ACCEPT_LEN] = "";
    return vitals_ws_handshake_check(req, allowed, accept);
}

START_TEST(accepts_and_computes_the_accept_value)
{
    vitals_ws_request req = good();
    char accept[WS_ACCEPT_LEN] = "";
    ck_assert_int_eq(vitals_ws_handshake_check(&req, NULL, accept), VITALS_WS_HANDSHAKE_OK);
    ck_assert_str_eq(accept, ACCEPT);
    /* Lists and any case, as browsers send them (Firefox: "keep-alive, Upgrade"). */
    req.upgrade = "WebSocket";
    req.connection = "keep-alive, Upgrade";
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_OK);
    req.connection = "upgrade,keep-alive";
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_OK);
}
END_TEST

START_TEST(not_an_upgrade)
{
    const char *upgrades[] = {NULL, "", "websockets", "h2c", "web socket"};
    for (size_t i = 0; i < G_N_ELEMENTS(upgrades); i++) {
        vitals_ws_request req = good();
        req.upgrade = upgrades[i];
        ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_NOT_UPGRADE);
    }
    const char *connections[] = {NULL, "keep-alive", "upgraded", "close, upgrad"};
    for (size_t i = 0; i < G_N_ELEMENTS(connections); i++) {
        vitals_ws_request req = good();
        req.connection = connections[i];
        ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_NOT_UPGRADE);
    }
}
END_TEST

START_TEST(version_13_only)
{
    const char *versions[] = {NULL, "", "8", "12", "14", "13, 8", " 13x"};
    for (size_t i = 0; i < G_N_ELEMENTS(versions); i++) {
        vitals_ws_request req = good();
        req.version = versions[i];
        ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_VERSION);
    }
}
END_TEST

START_TEST(key_is_16_bytes_of_base64)
{
    const char *keys[] = {NULL, "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=",
                          "dGhlIHNhbXBsZSBub25jZSE=", "dGhlIHNhbXBsZSBub25jZ!==",
                          "dGhlIHNhbXBsZSBub25jZQ== "};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        vitals_ws_request req = good();
        req.key = keys[i];
        ck_assert_msg(check(&req, NULL) == VITALS_WS_HANDSHAKE_KEY, "key '%s'", keys[i]);
    }
}
END_TEST

START_TEST(origin_own_or_allowed)
{
    const char *const allowed[] = {"https://dash.example", NULL};
    vitals_ws_request req = good();
    const char *ok[] = {NULL, "http://127.0.0.1:8765", "https://127.0.0.1:8765", "https://DASH.example"};
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        req.origin = ok[i];
        ck_assert_int_eq(check(&req, allowed), VITALS_WS_HANDSHAKE_OK);
    }
    const char *refused[] = {"http://evil.example", "null", "http://127.0.0.1:8766",
                             "http://127.0.0.1:8765.evil", "https://dash.example.evil"};
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        req.origin = refused[i];
        ck_assert_int_eq(check(&req, allowed), VITALS_WS_HANDSHAKE_ORIGIN);
    }
}
END_TEST

START_TEST(first_failure_wins)
{
    /* Everything wrong: the upgrade is reported; then the version; then the key. */
    vitals_ws_request req = {.upgrade = "h2c", .connection = "Upgrade", .version = "8", .key = "x",
                             .origin = "http://evil.example", .host = "h"};
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_NOT_UPGRADE);
    req.upgrade = "websocket";
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_VERSION);
    req.version = "13";
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_KEY);
    req.key = KEY;
    ck_assert_int_eq(check(&req, NULL), VITALS_WS_HANDSHAKE_ORIGIN);
}
END_TEST

START_TEST(header_tokens)
{
    ck_assert(vitals_ws_header_has_token("a, b ,\tc", "b"));
    ck_assert(vitals_ws_header_has_token("a, b ,\tc", "C"));
    ck_assert(vitals_ws_header_has_token("x", "x"));
    ck_assert(!vitals_ws_header_has_token("", "x"));
    ck_assert(!vitals_ws_header_has_token(",,", "x"));
    ck_assert(!vitals_ws_header_has_token("xy, yx", "x"));
    ck_assert(!vitals_ws_header_has_token(NULL, "x"));
}
END_TEST

static Suite *ws_handshake_suite(void)
{
    Suite *s = suite_create("ws_handshake");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts_and_computes_the_accept_value);
    tcase_add_test(tc, not_an_upgrade);
    tcase_add_test(tc, version_13_only);
    tcase_add_test(tc, key_is_16_bytes_of_base64);
    tcase_add_test(tc, origin_own_or_allowed);
    tcase_add_test(tc, first_failure_wins);
    tcase_add_test(tc, header_tokens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vitals_run_suite(ws_handshake_suite());
}
