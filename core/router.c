/*
 * router.c — subscriptions and delivery of ingest records.
 *
 * Subscriptions are few (a handful per plugin) and change only when a
 * plugin starts, while records arrive by the hundred thousand per second:
 * a read-write lock lets the UDP and HTTP threads deliver in parallel, and
 * each plugin has one mutex so its callbacks never overlap.
 */
#include "router.h"

#include <string.h>

typedef struct subscriber {
    vitals_plugin *plugin;
    GMutex *plugin_lock;  /* shared by every subscription of the plugin */
    char *owner;
    char *name;
    size_t name_len;
    vitals_record_fn on_record;
} subscriber;

struct vitals_router {
    GRWLock lock;
    GPtrArray *subscribers;   /* subscriber* */
    GHashTable *plugin_locks; /* vitals_plugin* -> GMutex* */
};

static void subscriber_free(gpointer data)
{
    subscriber *s = data;
    g_free(s->owner);
    g_free(s->name);
    g_free(s);
}

static void mutex_free(gpointer data)
{
    g_mutex_clear(data);
    g_free(data);
}

vitals_router *vitals_router_new(void)
{
    vitals_router *r = g_new0(vitals_router, 1);
    g_rw_lock_init(&r->lock);
    r->subscribers = g_ptr_array_new_with_free_func(subscriber_free);
    r->plugin_locks = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, mutex_free);
    return r;
}

void vitals_router_free(vitals_router *r)
{
    if (!r)
        return;
    g_ptr_array_free(r->subscribers, TRUE);
    g_hash_table_destroy(r->plugin_locks);
    g_rw_lock_clear(&r->lock);
    g_free(r);
}

static gboolean valid_name(const char *name)
{
    if (!name || !name[0] || strlen(name) > 200)
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!(g_ascii_isalnum(*c) || *c == '_' || *c == '.' || *c == '-'))
            return FALSE;
    return name[strlen(name) - 1] != '.';
}

int vitals_router_subscribe(vitals_router *r, vitals_plugin *p, const char *owner,
                            const char *name, vitals_record_fn on_record)
{
    if (!valid_name(name) || !on_record)
        return -1;
    subscriber *s = g_new0(subscriber, 1);
    s->plugin = p;
    s->owner = g_strdup(owner);
    s->name = g_strdup(name);
    s->name_len = strlen(name);
    s->on_record = on_record;
    g_rw_lock_writer_lock(&r->lock);
    s->plugin_lock = g_hash_table_lookup(r->plugin_locks, p);
    if (!s->plugin_lock) {
        s->plugin_lock = g_new0(GMutex, 1);
        g_mutex_init(s->plugin_lock);
        g_hash_table_insert(r->plugin_locks, p, s->plugin_lock);
    }
    g_ptr_array_add(r->subscribers, s);
    g_rw_lock_writer_unlock(&r->lock);
    return 0;
}

void vitals_router_unsubscribe(vitals_router *r, vitals_plugin *p)
{
    /* The writer lock waits for every dispatch in progress to finish. */
    g_rw_lock_writer_lock(&r->lock);
    for (guint i = r->subscribers->len; i-- > 0;)
        if (((subscriber *)r->subscribers->pdata[i])->plugin == p)
            g_ptr_array_remove_index(r->subscribers, i);
    g_hash_table_remove(r->plugin_locks, p);
    g_rw_lock_writer_unlock(&r->lock);
}

/* "action" matches "action" and "action.queue", not "actions". */
static gboolean matches(const subscriber *s, const char *name)
{
    return strncmp(name, s->name, s->name_len) == 0 &&
           (name[s->name_len] == '\0' || name[s->name_len] == '.');
}

size_t vitals_router_dispatch(vitals_router *r, const vitals_record *record)
{
    size_t delivered = 0;
    g_rw_lock_reader_lock(&r->lock);
    for (guint i = 0; i < r->subscribers->len; i++) {
        subscriber *s = r->subscribers->pdata[i];
        if (!matches(s, record->name))
            continue;
        g_mutex_lock(s->plugin_lock);
        s->on_record(s->plugin, record);
        g_mutex_unlock(s->plugin_lock);
        delivered++;
    }
    g_rw_lock_reader_unlock(&r->lock);
    return delivered;
}

guint vitals_router_count(vitals_router *r)
{
    g_rw_lock_reader_lock(&r->lock);
    guint n = r->subscribers->len;
    g_rw_lock_reader_unlock(&r->lock);
    return n;
}
