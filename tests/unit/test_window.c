/*
 * test_window.c — plugins/common/window.c, the sliding-window maths of the
 * action and event plugins: rates, success rates, expiry at the exact
 * second, gaps and reused buckets, no actions at all, and sampled lines.
 * Times are made up (the module has no clock), so every figure is exact.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "run_suite.h"
#include "window.h"

/* Adds one thing at t: ok or not, with value `value`. */
static void add_one(window *w, double t, int ok, double value)
{
    window_add(w, t, 1, ok ? 1 : 0, value);
}

START_TEST(test_empty_window_has_no_rates)
{
    window w;
    ck_assert(window_init(&w, 60));
    window_totals t = window_sum(&w, 1000.5);
    ck_assert_double_eq(t.count, 0);
    ck_assert_double_eq(t.ok, 0);
    ck_assert_double_eq(t.sum, 0);
    ck_assert_double_eq(window_per_minute(&w, &t), 0);
    double percent = -1, mean = -1;
    ck_assert(!window_success_percent(&t, &percent));
    ck_assert(!window_mean(&t, &mean));
    ck_assert_double_eq(percent, -1); /* untouched */
    ck_assert_double_eq(mean, -1);
    window_free(&w);
}
END_TEST

START_TEST(test_counts_rates_and_success)
{
    window w;
    ck_assert(window_init(&w, 60));
    /* 10 actions of 0.25 s within one second, the last 2 failed */
    for (int i = 0; i < 10; i++)
        add_one(&w, 100.0 + i * 0.09, i < 8, 0.25);
    window_totals t = window_sum(&w, 100.95);
    ck_assert_double_eq(t.count, 10);
    ck_assert_double_eq(t.ok, 8);
    ck_assert_double_eq(t.sum, 2.5);
    ck_assert_double_eq(window_per_minute(&w, &t), 10);
    double percent, mean;
    ck_assert(window_success_percent(&t, &percent));
    ck_assert_double_eq(percent, 80);
    ck_assert(window_mean(&t, &mean));
    ck_assert_double_eq(mean, 0.25);

    /* spread over 30 s of a 30 s window: the rate per minute doubles */
    window half;
    ck_assert(window_init(&half, 30));
    for (int s = 0; s < 30; s++)
        add_one(&half, 500.5 + s, 1, 0);
    t = window_sum(&half, 529.9);
    ck_assert_double_eq(t.count, 30);
    ck_assert_double_eq(window_per_minute(&half, &t), 60);
    ck_assert(window_success_percent(&t, &percent));
    ck_assert_double_eq(percent, 100);
    window_free(&half);
    window_free(&w);
}
END_TEST

START_TEST(test_all_failed_is_zero_percent_not_none)
{
    window w;
    ck_assert(window_init(&w, 10));
    add_one(&w, 7.0, 0, 1);
    add_one(&w, 7.5, 0, 3);
    window_totals t = window_sum(&w, 8.0);
    double percent = -1, mean;
    ck_assert(window_success_percent(&t, &percent));
    ck_assert_double_eq(percent, 0);
    ck_assert(window_mean(&t, &mean));
    ck_assert_double_eq(mean, 2);
    window_free(&w);
}
END_TEST

START_TEST(test_expires_at_the_exact_second)
{
    window w;
    ck_assert(window_init(&w, 60));
    add_one(&w, 100.5, 1, 1);
    add_one(&w, 101.0, 0, 1);
    /* the window at `now` is the seconds floor(now) - 59 … floor(now) */
    ck_assert_double_eq(window_sum(&w, 100.5).count, 1); /* 101.0 is still to come */
    ck_assert_double_eq(window_sum(&w, 101.5).count, 2);
    ck_assert_double_eq(window_sum(&w, 159.999).count, 2);
    window_totals t = window_sum(&w, 160.0); /* second 100 has left */
    ck_assert_double_eq(t.count, 1);
    ck_assert_double_eq(t.ok, 0);
    ck_assert_double_eq(window_sum(&w, 160.999).count, 1);
    t = window_sum(&w, 161.0);
    ck_assert_double_eq(t.count, 0);
    double percent;
    ck_assert(!window_success_percent(&t, &percent)); /* zero actions: no value */
    /* a moment before the data: not counted either */
    ck_assert_double_eq(window_sum(&w, 99.9).count, 0);
    window_free(&w);
}
END_TEST

START_TEST(test_gaps_and_reused_buckets)
{
    window w;
    ck_assert(window_init(&w, 60));
    add_one(&w, 10.2, 1, 1);
    add_one(&w, 12.7, 1, 2); /* nothing in second 11 */
    add_one(&w, 12.9, 0, 3);
    window_totals t = window_sum(&w, 13.0);
    ck_assert_double_eq(t.count, 3);
    ck_assert_double_eq(t.sum, 6);
    ck_assert_double_eq(t.ok, 2);

    /* second 70 takes second 10's bucket (70 mod 60 = 10) */
    add_one(&w, 70.1, 1, 4);
    t = window_sum(&w, 70.5);
    ck_assert_double_eq(t.count, 3); /* 12, 12 and 70: second 10 has left */
    ck_assert_double_eq(t.sum, 9);
    /* a late line for second 10 is older than the window: dropped */
    add_one(&w, 10.9, 1, 100);
    ck_assert_double_eq(window_sum(&w, 70.5).sum, 9);
    ck_assert_double_eq(window_sum(&w, 10.9).count, 0);

    /* after a long silence only what is new counts */
    t = window_sum(&w, 5000);
    ck_assert_double_eq(t.count, 0);
    add_one(&w, 5000.5, 0, 1);
    t = window_sum(&w, 5001);
    ck_assert_double_eq(t.count, 1);
    ck_assert_double_eq(t.ok, 0);
    ck_assert_double_eq(window_per_minute(&w, &t), 1);
    window_free(&w);
}
END_TEST

START_TEST(test_one_second_window)
{
    window w;
    ck_assert(window_init(&w, 1));
    add_one(&w, 3.1, 1, 1);
    add_one(&w, 3.9, 0, 1);
    window_totals t = window_sum(&w, 3.95);
    ck_assert_double_eq(t.count, 2);
    ck_assert_double_eq(window_per_minute(&w, &t), 120);
    ck_assert_double_eq(window_sum(&w, 4.0).count, 0);
    add_one(&w, 4.2, 1, 1);
    ck_assert_double_eq(window_sum(&w, 4.5).count, 1);
    window_free(&w);
}
END_TEST

START_TEST(test_sample_rates)
{
    ck_assert_double_eq(window_weight(1), 1);
    ck_assert_double_eq(window_weight(0.5), 2);
    ck_assert_double_eq(window_weight(0.25), 4);
    ck_assert_double_eq_tol(window_weight(0.1), 10, 1e-12);
    /* outside (0, 1]: the line stands for itself */
    ck_assert_double_eq(window_weight(0), 1);
    ck_assert_double_eq(window_weight(-0.5), 1);
    ck_assert_double_eq(window_weight(1.5), 1);
    ck_assert_double_eq(window_weight(NAN), 1);

    /* three lines sampled at 50 %, one of them failed: 6 actions, 4 ok */
    window w;
    ck_assert(window_init(&w, 60));
    for (int i = 0; i < 3; i++) {
        double weight = window_weight(0.5);
        window_add(&w, 42.0 + i, weight, i == 0 ? 0 : weight, 0.1 * weight);
    }
    window_totals t = window_sum(&w, 45);
    ck_assert_double_eq(t.count, 6);
    ck_assert_double_eq(t.ok, 4);
    ck_assert_double_eq(window_per_minute(&w, &t), 6);
    double percent, mean;
    ck_assert(window_success_percent(&t, &percent));
    ck_assert_double_eq_tol(percent, 200.0 / 3.0, 1e-12);
    ck_assert(window_mean(&t, &mean));
    ck_assert_double_eq_tol(mean, 0.1, 1e-15);

    /* one line at @0.1 stands for 10 actions: 10 per minute */
    window_free(&w);
    ck_assert(window_init(&w, 60));
    window_add(&w, 42.0, window_weight(0.1), window_weight(0.1), 0);
    t = window_sum(&w, 42.0);
    ck_assert_double_eq_tol(window_per_minute(&w, &t), 10, 1e-12);
    window_free(&w);
}
END_TEST

START_TEST(test_negative_and_invalid_input)
{
    window w;
    ck_assert(window_init(&w, 5));
    /* negative times work like any other (second -1 is [-1, 0)) */
    add_one(&w, -0.5, 1, 1);
    ck_assert_double_eq(window_sum(&w, -0.1).count, 1);
    ck_assert_double_eq(window_sum(&w, 3.0).count, 1);
    ck_assert_double_eq(window_sum(&w, 4.0).count, 0);
    /* not finite or out of range: ignored */
    add_one(&w, NAN, 1, 1);
    add_one(&w, INFINITY, 1, 1);
    add_one(&w, 1e300, 1, 1);
    window_add(&w, 1.0, NAN, 0, 0);
    window_add(&w, 1.0, 1, INFINITY, 0);
    window_add(&w, 1.0, 1, 1, NAN);
    ck_assert_double_eq(window_sum(&w, 1.0).count, 1); /* still only the first */
    ck_assert_double_eq(window_sum(&w, NAN).count, 0);
    window_free(&w);
    window_free(&w); /* harmless */

    /* sizes out of range leave an empty window that adds nothing */
    ck_assert(!window_init(&w, 0));
    ck_assert(!window_init(&w, WINDOW_MAX_SECONDS + 1));
    add_one(&w, 1.0, 1, 1);
    window_totals t = window_sum(&w, 1.0);
    ck_assert_double_eq(t.count, 0);
    ck_assert_double_eq(window_per_minute(&w, &t), 0);
    window_free(&w);
    ck_assert(window_init(&w, WINDOW_MAX_SECONDS));
    window_free(&w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("window");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, test_empty_window_has_no_rates);
    tcase_add_test(tc, test_counts_rates_and_success);
    tcase_add_test(tc, test_all_failed_is_zero_percent_not_none);
    tcase_add_test(tc, test_expires_at_the_exact_second);
    tcase_add_test(tc, test_gaps_and_reused_buckets);
    tcase_add_test(tc, test_one_second_window);
    tcase_add_test(tc, test_sample_rates);
    tcase_add_test(tc, test_negative_and_invalid_input);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
