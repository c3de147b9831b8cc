/* test_ring.c — the history ring: order, wrap-around, drop callback. */
#include <check.h>
#include <stdlib.h>

#include "ring.h"
#include "run_suite.h"

START_TEST(test_push_and_order)
{
    vitals_ring r;
    ck_assert_int_eq(vitals_ring_init(&r, sizeof(int), 3, NULL), 0);
    ck_assert_ptr_null(vitals_ring_at(&r, 0));
    for (int i = 1; i <= 2; i++)
        vitals_ring_push(&r, &i);
    ck_assert_uint_eq(vitals_ring_count(&r), 2);
    ck_assert_int_eq(*(int *)vitals_ring_at(&r, 0), 1);
    ck_assert_int_eq(*(int *)vitals_ring_from_newest(&r, 0), 2);
    ck_assert_ptr_null(vitals_ring_at(&r, 2));
    vitals_ring_free(&r);
}
END_TEST

START_TEST(test_wraps_keeping_newest)
{
    vitals_ring r;
    ck_assert_int_eq(vitals_ring_init(&r, sizeof(int), 3, NULL), 0);
    for (int i = 1; i <= 10; i++)
        vitals_ring_push(&r, &i);
    ck_assert_uint_eq(vitals_ring_count(&r), 3);
    ck_assert_int_eq(*(int *)vitals_ring_at(&r, 0), 8);
    ck_assert_int_eq(*(int *)vitals_ring_at(&r, 2), 10);
    ck_assert_int_eq(*(int *)vitals_ring_from_newest(&r, 2), 8);
    ck_assert_ptr_null(vitals_ring_from_newest(&r, 3));
    vitals_ring_free(&r);
}
END_TEST

static int dropped;
static void count_drop(void *elem)
{
    free(*(char **)elem);
    dropped++;
}

START_TEST(test_drop_releases_overwritten_and_remaining)
{
    vitals_ring r;
    dropped = 0;
    ck_assert_int_eq(vitals_ring_init(&r, sizeof(char *), 2, count_drop), 0);
    for (int i = 0; i < 5; i++) {
        char *s = malloc(8);
        vitals_ring_push(&r, &s);
    }
    ck_assert_int_eq(dropped, 3);
    vitals_ring_free(&r);
    ck_assert_int_eq(dropped, 5);
}
END_TEST

START_TEST(test_rejects_empty_geometry)
{
    vitals_ring r;
    ck_assert_int_eq(vitals_ring_init(&r, 0, 3, NULL), -1);
    ck_assert_int_eq(vitals_ring_init(&r, 4, 0, NULL), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, test_push_and_order);
    tcase_add_test(tc, test_wraps_keeping_newest);
    tcase_add_test(tc, test_drop_releases_overwritten_and_remaining);
    tcase_add_test(tc, test_rejects_empty_geometry);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
