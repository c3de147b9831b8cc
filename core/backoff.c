/*
 * backoff.c — restart delays; see backoff.h.
 */
#include "backoff.h"

void vitals_backoff_init(vitals_backoff *b, double initial, double max, double reset_after)
{
    b->initial = initial;
    b->max = max < initial ? initial : max;
    b->reset_after = reset_after;
    b->current = 0;
}

double vitals_backoff_failure(vitals_backoff *b, double ran)
{
    if (b->current <= 0 || ran >= b->reset_after)
        b->current = b->initial;
    else
        b->current = b->current * 2 > b->max ? b->max : b->current * 2;
    return b->current;
}
