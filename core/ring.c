/*
 * ring.c — a fixed-capacity ring of fixed-size elements.
 *
 * The registry keeps one per metric (and one for the frame timestamps), so
 * history costs capacity * elem_size bytes, allocated once, whatever the
 * uptime.
 */
#include "ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int vitals_ring_init(vitals_ring *r, size_t elem_size, size_t capacity, void (*drop)(void *))
{
    memset(r, 0, sizeof *r);
    if (elem_size == 0 || capacity == 0 || capacity > SIZE_MAX / elem_size)
        return -1;
    r->data = calloc(capacity, elem_size);
    if (!r->data)
        return -1;
    r->elem_size = elem_size;
    r->capacity = capacity;
    r->drop = drop;
    return 0;
}

void vitals_ring_free(vitals_ring *r)
{
    if (r->drop)
        for (size_t i = 0; i < r->count; i++)
            r->drop(vitals_ring_at(r, i));
    free(r->data);
    memset(r, 0, sizeof *r);
}

void vitals_ring_push(vitals_ring *r, const void *elem)
{
    size_t slot;
    if (r->count == r->capacity) {
        slot = r->head;
        if (r->drop)
            r->drop(r->data + slot * r->elem_size);
        r->head = (r->head + 1) % r->capacity;
    } else {
        slot = (r->head + r->count) % r->capacity;
        r->count++;
    }
    memcpy(r->data + slot * r->elem_size, elem, r->elem_size);
}

void *vitals_ring_at(const vitals_ring *r, size_t i)
{
    if (i >= r->count)
        return NULL;
    return r->data + ((r->head + i) % r->capacity) * r->elem_size;
}

void *vitals_ring_from_newest(const vitals_ring *r, size_t i)
{
    if (i >= r->count)
        return NULL;
    return vitals_ring_at(r, r->count - 1 - i);
}
