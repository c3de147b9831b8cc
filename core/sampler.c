/*
 * sampler.c — the host's heartbeat.
 *
 * A periodic timerfd on CLOCK_MONOTONIC keeps the cadence exact however
 * long a tick takes (a tick that overruns is counted and logged, not
 * queued up), and an eventfd wakes the thread to stop.  Each tick's sample
 * is encoded once here and the same bytes go to every client.
 */
#include "sampler.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "registry_json.h"

struct vitals_sampler {
    double interval;
    vitals_registry *reg;
    vitals_plugins *plugins;
    vitals_hub *hub;
    int timer_fd, stop_fd;
    GThread *thread;
    guint generation_sent;
    guint64 overruns;
};

static void tick(vitals_sampler *s)
{
    vitals_plugins_collect(s->plugins);
    vitals_frame *frame = vitals_registry_snapshot(s->reg, g_get_real_time() / 1e6);
    size_t len = 0;
    if (frame->descs->generation != s->generation_sent) {
        /* New descriptors go out before the first sample that uses them. */
        char *text = vitals_json_dump(vitals_json_descriptors_message(frame->descs), &len);
        if (s->generation_sent)
            vitals_hub_broadcast(s->hub, text, len, 0);
        free(text);
        s->generation_sent = frame->descs->generation;
    }
    char *text = vitals_json_dump(vitals_json_sample(frame), &len);
    vitals_hub_broadcast(s->hub, text, len, frame->seq);
    free(text);
    vitals_frame_unref(frame);
}

static gpointer sampler_thread(gpointer data)
{
    vitals_sampler *s = data;
    struct pollfd fds[2] = {{.fd = s->timer_fd, .events = POLLIN}, {.fd = s->stop_fd, .events = POLLIN}};
    tick(s);
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            vitals_log(VITALS_LOG_ERROR, "sampler", "poll: %s", g_strerror(errno));
            break;
        }
        if (fds[1].revents)
            break;
        uint64_t expirations = 0;
        if (read(s->timer_fd, &expirations, sizeof expirations) != sizeof expirations)
            continue;
        if (expirations > 1) {
            s->overruns += expirations - 1;
            vitals_log(VITALS_LOG_WARN, "sampler", "a tick took longer than the interval: %" G_GUINT64_FORMAT
                       " tick(s) skipped (%" G_GUINT64_FORMAT " in all)", expirations - 1, s->overruns);
        }
        tick(s);
    }
    return NULL;
}

vitals_sampler *vitals_sampler_start(double interval, vitals_registry *reg, vitals_plugins *plugins,
                                     vitals_hub *hub, GError **error)
{
    vitals_sampler *s = g_new0(vitals_sampler, 1);
    s->interval = interval;
    s->reg = reg;
    s->plugins = plugins;
    s->hub = hub;
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    double whole = floor(interval);
    struct timespec period = {(time_t)whole, (long)((interval - whole) * 1e9)};
    struct itimerspec spec = {.it_interval = period, .it_value = period};
    if (s->timer_fd < 0 || s->stop_fd < 0 || timerfd_settime(s->timer_fd, 0, &spec, NULL) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "sampler timer: %s",
                    g_strerror(errno));
        vitals_sampler_stop(s);
        return NULL;
    }
    s->thread = g_thread_try_new("vitals-sampler", sampler_thread, s, error);
    if (!s->thread) {
        vitals_sampler_stop(s);
        return NULL;
    }
    return s;
}

void vitals_sampler_stop(vitals_sampler *s)
{
    if (!s)
        return;
    if (s->thread) {
        uint64_t one = 1;
        ssize_t r = write(s->stop_fd, &one, sizeof one);
        (void)r;
        g_thread_join(s->thread);
    }
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    g_free(s);
}
