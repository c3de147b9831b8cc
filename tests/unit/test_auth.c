/*
 * test_auth.c — unit tests for core/auth.c: the token compare, where a token
 * may come from, and which WebSocket origins may connect.
 *
 * The compare's point is that it takes the same path whatever the guess;
 * that is checked by reading the code, not by timing it (tests never assert
 * timings).  Here: that it answers right for every kind of near miss.
 */
#include "auth.h"
#include "run_suite.h"

#include <check.h>
#include <string.h>

START_TEST(equal_answers)
{
    ck_assert(vitals_auth_equal("s3cret-token", "s3cret-token"));
    ck_assert(!vitals_auth_equal("s3cret-token", "s3cret-tokeN"));
    ck_assert(!vitals_auth_equal("s3cret-token", "S3cret-token"));
    ck_assert(!vitals_auth_equal("s3cret-token", "s3cret-toke"));    /* a prefix */
    ck_assert(!vitals_auth_equal("s3cret-token", "s3cret-token-")); /* longer */
    ck_assert(!vitals_auth_equal("s3cret-token", "s3cret-tokens3cret-token")); /* wraps around */
    ck_assert(!vitals_auth_equal("s3cret-token", ""));
    ck_assert(!vitals_auth_equal("s3cret-token", NULL));
    ck_assert(!vitals_auth_equal(NULL, "x"));
    ck_assert(!vitals_auth_equal("", ""));                          /* no empty secret */
    /* A difference at every position, and in every bit, is seen. */
    const char *secret = "abcdefghijklmnop";
    char guess[17];
    for (size_t i = 0; i < 16; i++) {
        for (unsigned bit = 0; bit < 7; bit++) {
            memcpy(guess, secret, sizeof guess);
            guess[i] = (char)(guess[i] ^ (1u << bit));
            ck_assert_msg(!vitals_auth_equal(secret, guess), "position %zu bit %u", i, bit);
        }
    }
}
END_TEST

START_TEST(check_sources)
{
    /* No token configured: everything passes. */
    ck_assert(vitals_auth_check(NULL, NULL, NULL));
    ck_assert(vitals_auth_check(NULL, "Bearer x", "y"));
    /* The header, scheme in any case, blanks around the credentials. */
    ck_assert(vitals_auth_check("tok", "Bearer tok", NULL));
    ck_assert(vitals_auth_check("tok", "bearer tok", NULL));
    ck_assert(vitals_auth_check("tok", "  BEARER \t tok  ", NULL));
    ck_assert(!vitals_auth_check("tok", "Bearer", NULL));
    ck_assert(!vitals_auth_check("tok", "Bearertok", NULL));
    ck_assert(!vitals_auth_check("tok", "Basic dG9rOg==", NULL));
    ck_assert(!vitals_auth_check("tok", "Bearer tok2", NULL));
    ck_assert(!vitals_auth_check("tok", "tok", NULL));
    /* The query parameter. */
    ck_assert(vitals_auth_check("tok", NULL, "tok"));
    ck_assert(!vitals_auth_check("tok", NULL, "tok "));
    ck_assert(!vitals_auth_check("tok", NULL, ""));
    /* Either one right is enough; neither is refused. */
    ck_assert(vitals_auth_check("tok", "Bearer wrong", "tok"));
    ck_assert(vitals_auth_check("tok", "Bearer tok", "wrong"));
    ck_assert(!vitals_auth_check("tok", "Bearer wrong", "wrong"));
    ck_assert(!vitals_auth_check("tok", NULL, NULL));
}
END_TEST

START_TEST(origins)
{
    const char *const none[] = {NULL};
    /* Not a browser: no Origin header. */
    ck_assert(vitals_auth_origin_allowed(NULL, "127.0.0.1:8765", none));
    /* The host's own origin, either scheme (a TLS proxy keeps the Host). */
    ck_assert(vitals_auth_origin_allowed("http://127.0.0.1:8765", "127.0.0.1:8765", none));
    ck_assert(vitals_auth_origin_allowed("https://Vitals.Example:8765", "vitals.example:8765", NULL));
    ck_assert(!vitals_auth_origin_allowed("http://127.0.0.1:8766", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("http://127.0.0.1", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("http://evil.example", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("null", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("ftp://127.0.0.1:8765", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("http://127.0.0.1:8765.evil", "127.0.0.1:8765", none));
    ck_assert(!vitals_auth_origin_allowed("http://x", NULL, none));
    ck_assert(!vitals_auth_origin_allowed("http://", "", none));
    /* The allow-list. */
    char **allowed = vitals_auth_parse_origins(" https://dash.example/ ,, http://localhost:3000,");
    ck_assert_uint_eq(g_strv_length(allowed), 2);
    ck_assert_str_eq(allowed[0], "https://dash.example");
    ck_assert_str_eq(allowed[1], "http://localhost:3000");
    const char *const *list = (const char *const *)allowed;
    ck_assert(vitals_auth_origin_allowed("https://dash.example", "127.0.0.1:8765", list));
    ck_assert(vitals_auth_origin_allowed("HTTPS://DASH.EXAMPLE", "127.0.0.1:8765", list));
    ck_assert(vitals_auth_origin_allowed("http://localhost:3000", "127.0.0.1:8765", list));
    ck_assert(!vitals_auth_origin_allowed("http://dash.example", "127.0.0.1:8765", list));
    ck_assert(!vitals_auth_origin_allowed("https://dash.example.evil", "127.0.0.1:8765", list));
    g_strfreev(allowed);
    allowed = vitals_auth_parse_origins(NULL);
    ck_assert_uint_eq(g_strv_length(allowed), 0);
    g_strfreev(allowed);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_test(tc, equal_answers);
    tcase_add_test(tc, check_sources);
    tcase_add_test(tc, origins);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return vitals_run_suite(auth_suite());
}
