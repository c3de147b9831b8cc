/*
 * ingest_flood.c — StatsD ingest throughput and loss (DESIGN.md §5:
 * >= 500,000 lines/s on one core without loss, on loopback).
 *
 * Sends a known number of `action:<ms>|ms|#name:x,ok:true` lines to the
 * host's UDP ingest port at a ladder of paced rates (sendmmsg, 64 datagrams
 * per call), each for --seconds, and after each step waits until the host's
 * counters stop moving, then compares:
 *
 *   sent       lines this program handed to the kernel;
 *   accepted   change of /healthz ingest.records (and rejected);
 *   lost       sent - accepted - rejected;
 *   kernel     change of the "drops" column of the host's socket in
 *              /proc/net/udp: datagrams the kernel discarded because the
 *              receive buffer was full (the host was too slow);
 *   host rate  accepted / (last counter change - start of sending): what
 *              the host absorbed, including the drain of its buffer;
 *   ingest CPU the host's "vitals-ingest" thread, % of one core.
 *
 * Lines are packed into datagrams of at most --datagram bytes (1432 by
 * default, as the vitals C client and StatsD clients do; --datagram 0
 * sends one line per datagram).  The last step ("max") is unpaced.
 * The host's counter vitals.ingest.records (/api/v1/metrics) is printed at
 * the end beside /healthz's, as a cross-check.
 *
 *   ingest_flood --udp PORT --http PORT [--pid PID] [--seconds S]
 *                [--rates 100000,200000,...] [--datagram BYTES]
 *
 * Loopback only, bounded: each step lasts --seconds plus at most 5 s of
 * settling.  The last line is "RESULT key=value ..." for bench/run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_STEPS 32

static int udp_port, http_port, pid;

static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* GET path from the host; the body in buf.  False on any failure. */
static bool http_get(const char *path, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return false;
    }
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 && (r = recv(fd, buf + len, cap - 1 - len, 0)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return strstr(buf, "\r\n\r\n") != NULL;
}

/* /healthz ingest.records and ingest.rejected. */
static bool host_counters(unsigned long long *records, unsigned long long *rejected)
{
    char buf[4096];
    if (!http_get("/healthz", buf, sizeof buf))
        return false;
    char *ingest = strstr(buf, "\"ingest\":");
    char *rec = ingest ? strstr(ingest, "\"records\":") : NULL;
    char *rej = ingest ? strstr(ingest, "\"rejected\":") : NULL;
    if (!rec || !rej)
        return false;
    *records = strtoull(rec + 10, NULL, 10);
    *rejected = strtoull(rej + 11, NULL, 10);
    return true;
}

/* Drops counted by the kernel on the UDP socket bound to udp_port, and its
 * receive queue; -1 when not found. */
static long long kernel_drops(void)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f)
        return -1;
    char line[512], want[16];
    snprintf(want, sizeof want, ":%04X ", udp_port);
    long long drops = -1;
    while (fgets(line, sizeof line, f)) {
        char *local = strchr(line, ':'); /* after "sl:" */
        if (!local || !(local = strchr(local + 1, ':')) || strncmp(local, want, 6) != 0)
            continue;
        size_t end = strlen(line); /* lines end in blanks: trim them */
        while (end > 0 && isspace((unsigned char)line[end - 1]))
            line[--end] = '\0';
        char *last = strrchr(line, ' '); /* drops is the last column */
        if (last)
            drops = atoll(last + 1);
    }
    fclose(f);
    return drops;
}

/* Nanoseconds on a CPU of the host's ingest thread (comm "vitals-ingest"). */
static long long ingest_thread_cpu(void)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long long total = -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/stat", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (!strstr(buf, "(vitals-ingest)"))
            continue;
        /* schedstat: ns on a CPU, exact (stat's utime/stime are 10 ms ticks). */
        snprintf(path, sizeof path, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%lld", &total) != 1)
                total = -1;
            fclose(f);
        }
    }
    closedir(d);
    return total;
}

typedef struct {
    double rate;               /* asked, lines/s; 0 = unpaced */
    unsigned long long sent, accepted, rejected;
    long long kdrops;
    double send_rate, host_rate, cpu;
} step;

/* Sends `lines` lines at `rate` lines/s (0: as fast as possible). */
static double send_lines(int fd, unsigned long long lines, double rate, size_t dgram_cap,
                         unsigned long long *sent)
{
    static char bufs[BATCH][1500];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    unsigned long long done = 0, value = 1;
    double t0 = monotonic();
    while (done < lines) {
        int nmsg = 0;
        unsigned long long in_batch = 0;
        for (; nmsg < BATCH && done + in_batch < lines; nmsg++) {
            size_t len = 0;
            do {
                char line[64];
                int n = snprintf(line, sizeof line, "action:%llu|ms|#name:x,ok:true\n",
                                 value++ % 997 + 1);
                if (len > 0 && len + (size_t)n > dgram_cap)
                    break;
                memcpy(bufs[nmsg] + len, line, (size_t)n);
                len += (size_t)n;
                in_batch++;
            } while (dgram_cap > 0 && done + in_batch < lines);
            iov[nmsg] = (struct iovec){.iov_base = bufs[nmsg], .iov_len = len};
            msgs[nmsg] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[nmsg], .msg_iovlen = 1}};
        }
        int off = 0;
        while (off < nmsg) {
            int r = sendmmsg(fd, msgs + off, (unsigned)(nmsg - off), 0);
            if (r < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
                    continue;
                perror("sendmmsg");
                exit(1);
            }
            off += r;
        }
        done += in_batch;
        if (rate > 0) { /* pace: line `done` is due at t0 + done/rate */
            double due = t0 + (double)done / rate;
            double now = monotonic();
            if (due - now > 200e-6) {
                struct timespec ts = {0, (long)((due - now) * 1e9)};
                nanosleep(&ts, NULL);
            }
            while (monotonic() < due)
                ;
        }
    }
    *sent = done;
    return monotonic() - t0;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    size_t dgram = 1432;
    const char *rates_arg = "50000,100000,200000,300000,400000,500000,600000,800000,1000000,1500000,0";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--udp"))
            udp_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--http"))
            http_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid"))
            pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--rates"))
            rates_arg = argv[i + 1];
        else if (!strcmp(argv[i], "--datagram"))
            dgram = (size_t)atoi(argv[i + 1]);
    }
    if (udp_port <= 0 || http_port <= 0 || seconds <= 0 || seconds > 30 || dgram > 1472) {
        fprintf(stderr, "usage: %s --udp PORT --http PORT [--pid PID] [--seconds 0..30] "
                        "[--rates R1,R2,...,0] [--datagram 0..1472]\n", argv[0]);
        return 2;
    }
    double rates[MAX_STEPS];
    int nrates = 0;
    for (char *copy = strdup(rates_arg), *tok = strtok(copy, ","); tok && nrates < MAX_STEPS;
         tok = strtok(NULL, ","))
        rates[nrates++] = atof(tok);

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)udp_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("udp socket");
        return 1;
    }
    int sndbuf = 4 * 1024 * 1024; /* the sender should not be what limits */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    char load[64] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (!fgets(load, sizeof load, lf))
            strcpy(load, "?");
        load[strcspn(load, "\n")] = '\0';
        fclose(lf);
    }
    printf("ingest_flood: udp 127.0.0.1:%d, lines \"action:<1..997>|ms|#name:x,ok:true\", %s, "
           "%.1f s per step; loadavg %s\n", udp_port,
           dgram ? "packed into datagrams of <= 1432 bytes (~45 lines)" : "one line per datagram",
           seconds, load);
    printf("  %10s %10s %10s %10s %10s %8s %10s %10s %8s\n", "asked/s", "sent", "sent/s", "accepted",
           "lost", "loss%", "kdrops", "host/s", "ingCPU%");

    step steps[MAX_STEPS];
    double best_zero_loss = 0, saturation = 0;
    bool lossy_seen = false;
    for (int s = 0; s < nrates; s++) {
        step *st = &steps[s];
        memset(st, 0, sizeof *st);
        st->rate = rates[s];
        unsigned long long rec0, rej0, rec1, rej1;
        if (!host_counters(&rec0, &rej0)) {
            fprintf(stderr, "ingest_flood: cannot read /healthz on port %d\n", http_port);
            return 1;
        }
        long long kd0 = kernel_drops(), cpu0 = pid ? ingest_thread_cpu() : -1;
        /* Unpaced: as many lines as the fastest paced step would send. */
        double r = st->rate > 0 ? st->rate : 2e6;
        unsigned long long lines = (unsigned long long)(r * seconds);
        double t0 = monotonic();
        double elapsed = send_lines(fd, lines, st->rate, dgram, &st->sent);
        st->send_rate = (double)st->sent / elapsed;
        /* Settle: poll until the counters have not moved for 300 ms. */
        double last_change = monotonic(), give_up = last_change + 5;
        unsigned long long prev = rec0 + rej0;
        rec1 = rec0;
        rej1 = rej0;
        while (monotonic() < give_up) {
            host_counters(&rec1, &rej1);
            double now = monotonic();
            if (rec1 + rej1 != prev) {
                prev = rec1 + rej1;
                last_change = now;
            } else if (now - last_change > 0.3) {
                break;
            }
            usleep(20000);
        }
        long long cpu1 = pid ? ingest_thread_cpu() : -1;
        st->accepted = rec1 - rec0;
        st->rejected = rej1 - rej0;
        st->kdrops = kd0 >= 0 ? kernel_drops() - kd0 : -1;
        double busy = last_change - t0 > elapsed ? last_change - t0 : elapsed;
        st->host_rate = (double)st->accepted / busy;
        st->cpu = cpu0 >= 0 && cpu1 >= 0 ? 100.0 * (double)(cpu1 - cpu0) * 1e-9 / busy : -1;
        unsigned long long lost = st->sent > st->accepted + st->rejected
                                      ? st->sent - st->accepted - st->rejected : 0;
        char asked[16];
        if (st->rate > 0)
            snprintf(asked, sizeof asked, "%.0f", st->rate);
        else
            snprintf(asked, sizeof asked, "max");
        printf("  %10s %10llu %10.0f %10llu %10llu %8.3f %10lld %10.0f %8.1f\n", asked, st->sent,
               st->send_rate, st->accepted, lost, 100.0 * (double)lost / (double)st->sent,
               st->kdrops, st->host_rate, st->cpu);
        fflush(stdout);
        if (st->rejected)
            printf("  (%llu lines rejected by the host)\n", st->rejected);
        /* Zero loss at rate R: every line of this step and of every slower
         * step arrived (a lossless step above a lossy one proves nothing). */
        if (lost)
            lossy_seen = true;
        else if (!lossy_seen && st->send_rate > best_zero_loss)
            best_zero_loss = st->send_rate;
        if (st->host_rate > saturation)
            saturation = st->host_rate;
    }
    char metrics[65536];
    if (http_get("/api/v1/metrics", metrics, sizeof metrics)) {
        char *v = strstr(metrics, "\"ingest.records\":");
        unsigned long long rec, rej;
        if (v && host_counters(&rec, &rej))
            printf("  cross-check: vitals.ingest.records %s (at the last tick) vs /healthz %llu\n",
                   strtok(v + 17, ",}"), rec);
    }
    printf("  highest send rate with zero loss (at it and below): %.0f lines/s; most the host absorbed: %.0f lines/s\n",
           best_zero_loss, saturation);
    printf("RESULT datagram=%zu zero_loss_lps=%.0f saturation_lps=%.0f\n", dgram, best_zero_loss,
           saturation);
    close(fd);
    return 0;
}
