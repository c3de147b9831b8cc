/*
 * test_backoff.c — unit tests of core/backoff.c: the restart delays of
 * isolated plugins' helpers.
 */
#include <check.h>

#include "backoff.h"
#include "run_suite.h"

START_TEST(test_doubles_up_to_the_cap)
{
    vitals_backoff b;
    vitals_backoff_init(&b, 1, 60, 60);
    const double want[] = {1, 2, 4, 8, 16, 32, 60, 60};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_double_eq(vitals_backoff_failure(&b, 0.5), want[i]);
}
END_TEST

START_TEST(test_a_long_run_resets_it)
{
    vitals_backoff b;
    vitals_backoff_init(&b, 1, 60, 60);
    vitals_backoff_failure(&b, 0);
    vitals_backoff_failure(&b, 0);
    ck_assert_double_eq(vitals_backoff_failure(&b, 1), 4);
    /* It ran fine for a minute: the next crash is a first one again. */
    ck_assert_double_eq(vitals_backoff_failure(&b, 61), 1);
    ck_assert_double_eq(vitals_backoff_failure(&b, 2), 2);
}
END_TEST

START_TEST(test_max_below_initial_is_initial)
{
    vitals_backoff b;
    vitals_backoff_init(&b, 5, 1, 60);
    ck_assert_double_eq(vitals_backoff_failure(&b, 0), 5);
    ck_assert_double_eq(vitals_backoff_failure(&b, 0), 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("backoff");
    tcase_add_test(tc, test_doubles_up_to_the_cap);
    tcase_add_test(tc, test_a_long_run_resets_it);
    tcase_add_test(tc, test_max_below_initial_is_initial);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
