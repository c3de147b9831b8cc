/*
 * run_suite.h — the main() of every unit test: runs one check suite and
 * turns its failures into the process's exit status.
 */
#ifndef VITALS_TESTS_RUN_SUITE_H
#define VITALS_TESTS_RUN_SUITE_H

#include <check.h>
#include <stdlib.h>

/* Runs every test of `s` (CK_NORMAL output), frees the runner and with it
 * the suite, and returns EXIT_SUCCESS when none failed, else EXIT_FAILURE. */
static inline int vitals_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
