/*
 * test_procfs.c — the system plugin's /proc readers (plugins/system/procfs.c):
 * counting a process tree through the children files gives what reading
 * every process gives, for children of the main thread, grandchildren and
 * children forked by another thread; a process that is gone counts 0.
 *
 * Every child sleeps at most 20 s and dies with its parent (PR_SET_PDEATHSIG),
 * so a failed test leaves nothing running for long.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "run_suite.h"

/* A child that sleeps until killed; with `grandchild`, it first forks one
 * sleeper of its own. */
static pid_t start_sleeper(int grandchild)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (grandchild && fork() == 0)
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        sleep(20);
        _exit(0);
    }
    return pid;
}

static void *fork_from_thread(void *out)
{
    *(pid_t *)out = start_sleeper(0);
    return NULL;
}

/* The count by the children files, once the tree has settled: a forked
 * grandchild may need a moment to appear. */
static long settled_count(int root, long expected)
{
    long count = -1;
    for (int tries = 0; tries < 200; tries++) {
        count = procfs_count_tree(root);
        if (count == expected)
            break;
        usleep(10 * 1000);
    }
    return count;
}

START_TEST(test_children_files_count_what_the_table_counts)
{
    pid_t with_grandchild = start_sleeper(1);
    pid_t plain = start_sleeper(0);
    pid_t from_thread = 0;
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, fork_from_thread, &from_thread), 0);
    pthread_join(thread, NULL);
    ck_assert_int_gt(from_thread, 0);

    /* this process, 3 children, 1 grandchild */
    long by_children = settled_count(getpid(), 5);
    struct proc_table table = {0};
    ck_assert(procfs_table_scan(&table));
    ck_assert_int_eq(procfs_table_count_tree(&table, getpid()), 5);
    ck_assert_int_eq(by_children, 5);
    ck_assert_int_eq(procfs_count_tree(with_grandchild), 2);
    ck_assert_int_eq(procfs_count_tree(plain), 1);

    pid_t children[] = {with_grandchild, plain, from_thread};
    for (size_t i = 0; i < sizeof children / sizeof *children; i++) {
        kill(children[i], SIGKILL);
        waitpid(children[i], NULL, 0);
    }
    ck_assert_int_eq(procfs_count_tree(plain), 0); /* reaped: gone */
    procfs_table_free(&table);
}
END_TEST

START_TEST(test_reads_this_process)
{
    struct proc_stat self;
    ck_assert(procfs_read_stat(getpid(), &self));
    ck_assert_int_eq(self.pid, getpid());
    ck_assert_int_eq(self.ppid, getppid());
    ck_assert(!procfs_has_exited(&self));
    ck_assert_int_ge(self.threads, 1);
    uint64_t pages = 0;
    ck_assert(procfs_resident_pages(getpid(), &pages));
    ck_assert_uint_gt(pages, 0);
}
END_TEST

START_TEST(test_parses_a_name_with_spaces_and_parentheses)
{
    struct proc_stat out;
    const char *text = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 3 0 999 0 0";
    ck_assert(procfs_parse_stat(text, &out));
    ck_assert_str_eq(out.comm, "a (b) c");
    ck_assert_int_eq(out.ppid, 1);
    ck_assert_uint_eq(out.cpu_ticks, 12);
    ck_assert_int_eq(out.threads, 3);
    ck_assert_uint_eq(out.start_ticks, 999);
    ck_assert(!procfs_parse_stat("42 no name here", &out));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("procfs");
    TCase *tc = tcase_create("procfs");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_children_files_count_what_the_table_counts);
    tcase_add_test(tc, test_reads_this_process);
    tcase_add_test(tc, test_parses_a_name_with_spaces_and_parentheses);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
