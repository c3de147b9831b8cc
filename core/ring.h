/*
 * ring.h — a fixed-capacity ring of fixed-size elements.  Pure: no I/O,
 * no locking (the owner locks).  Pushing onto a full ring drops the oldest
 * element, handing it to `drop` first so it can release what it owns.
 */
#ifndef VITALS_RING_H
#define VITALS_RING_H

#include <stddef.h>

typedef struct vitals_ring {
    unsigned char *data;
    size_t elem_size;
    size_t capacity;
    size_t head;   /* index of the oldest element */
    size_t count;
    void (*drop)(void *elem); /* may be NULL */
} vitals_ring;

/* Returns 0, or -1 if capacity or elem_size is 0 or memory is short. */
int vitals_ring_init(vitals_ring *r, size_t elem_size, size_t capacity, void (*drop)(void *));
void vitals_ring_free(vitals_ring *r);

/* Copies elem in as the newest element. */
void vitals_ring_push(vitals_ring *r, const void *elem);

/* The i-th element, 0 = oldest; NULL when i >= count. */
void *vitals_ring_at(const vitals_ring *r, size_t i);
/* The i-th element counting back from the newest (0 = newest); NULL past the end. */
void *vitals_ring_from_newest(const vitals_ring *r, size_t i);

static inline size_t vitals_ring_count(const vitals_ring *r) { return r->count; }

#endif
