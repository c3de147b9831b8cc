/*
 * window.c — sliding-window totals in 1-second buckets; see window.h.
 */
#include "window.h"

#include <math.h> /* isfinite, a macro: plugins do not link libm */
#include <stdlib.h>

/* Times beyond this many seconds are refused: their whole second would not
 * fit an int64_t exactly (and no monotonic clock gets there). */
#define WINDOW_MAX_TIME 9007199254740992.0 /* 2^53 */

bool window_init(window *w, unsigned seconds)
{
    w->seconds = 0;
    w->buckets = NULL;
    if (seconds == 0 || seconds > WINDOW_MAX_SECONDS)
        return false;
    w->buckets = malloc(seconds * sizeof *w->buckets);
    if (!w->buckets)
        return false;
    for (unsigned i = 0; i < seconds; i++) /* empty, and older than any time */
        w->buckets[i] = (window_bucket){.second = INT64_MIN};
    w->seconds = seconds;
    return true;
}

void window_free(window *w)
{
    free(w->buckets);
    w->buckets = NULL;
    w->seconds = 0;
}

/* The whole second of time t; false when t is not a usable time. */
static bool whole_second(double t, int64_t *second)
{
    if (!(t > -WINDOW_MAX_TIME && t < WINDOW_MAX_TIME))
        return false; /* also NaN */
    int64_t whole = (int64_t)t; /* rounds toward zero */
    *second = (double)whole > t ? whole - 1 : whole;
    return true;
}

void window_add(window *w, double t, double count, double ok, double sum)
{
    int64_t second;
    if (!w->seconds || !whole_second(t, &second) || !isfinite(count) || !isfinite(ok) ||
        !isfinite(sum))
        return;
    int64_t n = (int64_t)w->seconds;
    window_bucket *b = &w->buckets[((second % n) + n) % n];
    if (b->second > second)
        return; /* the bucket moved on: t is more than W seconds old */
    if (b->second < second)
        *b = (window_bucket){.second = second}; /* reuse a stale bucket */
    b->count += count;
    b->ok += ok;
    b->sum += sum;
}

window_totals window_sum(const window *w, double now)
{
    window_totals t = {0, 0, 0};
    int64_t newest;
    if (!w->seconds || !whole_second(now, &newest))
        return t;
    int64_t oldest = newest - (int64_t)w->seconds + 1;
    for (unsigned i = 0; i < w->seconds; i++) {
        const window_bucket *b = &w->buckets[i];
        if (b->second >= oldest && b->second <= newest) {
            t.count += b->count;
            t.ok += b->ok;
            t.sum += b->sum;
        }
    }
    return t;
}

double window_per_minute(const window *w, const window_totals *t)
{
    return w->seconds ? t->count * 60.0 / (double)w->seconds : 0.0;
}

bool window_success_percent(const window_totals *t, double *percent)
{
    if (!(t->count > 0))
        return false;
    *percent = 100.0 * t->ok / t->count;
    return true;
}

bool window_mean(const window_totals *t, double *mean)
{
    if (!(t->count > 0))
        return false;
    *mean = t->sum / t->count;
    return true;
}

double window_weight(double sample_rate)
{
    return sample_rate > 0 && sample_rate <= 1 ? 1.0 / sample_rate : 1.0;
}
