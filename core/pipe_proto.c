/*
 * pipe_proto.c — frames of the host <-> helper pipe; see pipe_proto.h.
 *
 * Everything here trusts nothing: the decoder checks every length against
 * what is left of the frame before reading, requires the NUL after each
 * string, and refuses frames with bytes left over, so a confused or hostile
 * helper is detected at the first bad frame.
 */
#include "pipe_proto.h"

#include <string.h>

#define NULL_STRING 0xffffffffu

/* ---- encoding -------------------------------------------------------------- */

static void put_u32(GByteArray *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    g_byte_array_append(out, b, 4);
}

static void put_double(GByteArray *out, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    put_u32(out, (uint32_t)bits);
    put_u32(out, (uint32_t)(bits >> 32));
}

static void put_string(GByteArray *out, const char *s)
{
    if (!s) {
        put_u32(out, NULL_STRING);
        return;
    }
    size_t n = strlen(s);
    if (n > VITALS_PIPE_MAX_STRING)
        n = VITALS_PIPE_MAX_STRING;
    put_u32(out, (uint32_t)n);
    g_byte_array_append(out, (const guint8 *)s, (guint)n);
    g_byte_array_append(out, (const guint8 *)"", 1);
}

static void put_desc(GByteArray *out, const vitals_metric_desc *d)
{
    const char *strings[] = {d->id, d->title, d->unit, d->description, d->chart, d->chart_title,
                             d->family, d->labels};
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        put_string(out, strings[i]);
    put_u32(out, (uint32_t)d->kind);
    put_u32(out, (uint32_t)d->style);
    put_u32(out, (uint32_t)d->axis);
    put_u32(out, (uint32_t)d->precision);
    put_u32(out, (uint32_t)d->priority);
    uint32_t flags = (uint32_t)d->has_min | (uint32_t)d->has_max << 1 | (uint32_t)d->card << 2 |
                     (uint32_t)d->has_warn << 3 | (uint32_t)d->has_crit << 4 |
                     (uint32_t)d->lower_is_worse << 5;
    put_u32(out, flags);
    put_double(out, d->min);
    put_double(out, d->max);
    put_double(out, d->warn);
    put_double(out, d->crit);
    put_u32(out, (uint32_t)d->stream_every);
}

gboolean vitals_pipe_encode(GByteArray *out, const vitals_pipe_msg *msg)
{
    guint start = out->len;
    put_u32(out, 0); /* the length, patched below */
    guint8 type = (guint8)msg->type;
    g_byte_array_append(out, &type, 1);
    switch (msg->type) {
    case VITALS_PIPE_COLLECT:
    case VITALS_PIPE_QUIT:
    case VITALS_PIPE_DONE:
        break;
    case VITALS_PIPE_HELLO:
    case VITALS_PIPE_FAIL:
        put_string(out, msg->text);
        break;
    case VITALS_PIPE_LOG:
        put_u32(out, msg->level);
        put_string(out, msg->text);
        break;
    case VITALS_PIPE_DESC:
        put_u32(out, msg->handle);
        put_desc(out, &msg->desc);
        break;
    case VITALS_PIPE_SET:
    case VITALS_PIPE_ADD:
    case VITALS_PIPE_OBSERVE:
        put_u32(out, msg->handle);
        put_double(out, msg->number);
        break;
    case VITALS_PIPE_TEXT:
        put_u32(out, msg->handle);
        put_string(out, msg->text);
        break;
    case VITALS_PIPE_CLEAR:
        put_u32(out, msg->handle);
        break;
    default:
        g_byte_array_set_size(out, start);
        return FALSE;
    }
    uint32_t n = out->len - start - 4;
    out->data[start] = (guint8)n;
    out->data[start + 1] = (guint8)(n >> 8);
    out->data[start + 2] = (guint8)(n >> 16);
    out->data[start + 3] = (guint8)(n >> 24);
    return TRUE;
}

/* ---- decoding -------------------------------------------------------------- */

void vitals_pipe_decoder_init(vitals_pipe_decoder *d)
{
    d->len = 0;
    d->consumed = 0;
}

/* Drops the bytes of frames already decoded (their strings die here). */
static void compact(vitals_pipe_decoder *d)
{
    if (!d->consumed)
        return;
    memmove(d->buf, d->buf + d->consumed, d->len - d->consumed);
    d->len -= d->consumed;
    d->consumed = 0;
}

unsigned char *vitals_pipe_decoder_space(vitals_pipe_decoder *d, size_t *room)
{
    compact(d);
    *room = sizeof d->buf - d->len;
    return d->buf + d->len;
}

void vitals_pipe_decoder_wrote(vitals_pipe_decoder *d, size_t n)
{
    d->len += n;
}

gboolean vitals_pipe_decoder_feed(vitals_pipe_decoder *d, const void *data, size_t len)
{
    size_t room;
    unsigned char *at = vitals_pipe_decoder_space(d, &room);
    if (len > room)
        return FALSE;
    memcpy(at, data, len);
    vitals_pipe_decoder_wrote(d, len);
    return TRUE;
}

/* A cursor over one frame's body. */
typedef struct reader {
    unsigned char *p, *end;
    gboolean bad;
} reader;

static uint32_t get_u32(reader *r)
{
    if (r->bad || r->end - r->p < 4) {
        r->bad = TRUE;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                 (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static double get_double(reader *r)
{
    uint64_t lo = get_u32(r), hi = get_u32(r);
    uint64_t bits = lo | hi << 32;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static const char *get_string(reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || n == NULL_STRING)
        return NULL;
    if (n > VITALS_PIPE_MAX_STRING || (size_t)(r->end - r->p) < (size_t)n + 1 || r->p[n] != '\0' ||
        memchr(r->p, '\0', n)) {
        r->bad = TRUE;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += n + 1;
    return s;
}

static void get_desc(reader *r, vitals_metric_desc *d)
{
    const char **strings[] = {&d->id, &d->title, &d->unit, &d->description, &d->chart,
                              &d->chart_title, &d->family, &d->labels};
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        *strings[i] = get_string(r);
    /* Enums travel as numbers; the registry refuses the unknown ones. */
    d->kind = (vitals_metric_kind)get_u32(r);
    d->style = (vitals_chart_style)get_u32(r);
    d->axis = (vitals_chart_axis)get_u32(r);
    d->precision = (int)get_u32(r);
    d->priority = (int)get_u32(r);
    uint32_t flags = get_u32(r);
    d->has_min = flags & 1;
    d->has_max = flags >> 1 & 1;
    d->card = flags >> 2 & 1;
    d->has_warn = flags >> 3 & 1;
    d->has_crit = flags >> 4 & 1;
    d->lower_is_worse = flags >> 5 & 1;
    d->min = get_double(r);
    d->max = get_double(r);
    d->warn = get_double(r);
    d->crit = get_double(r);
    d->stream_every = (int)get_u32(r); /* the registry refuses what is out of range */
}

int vitals_pipe_decoder_next(vitals_pipe_decoder *d, vitals_pipe_msg *msg, const char **why)
{
    compact(d);
    if (d->len < 4)
        return 0;
    uint32_t n = (uint32_t)d->buf[0] | (uint32_t)d->buf[1] << 8 | (uint32_t)d->buf[2] << 16 |
                 (uint32_t)d->buf[3] << 24;
    if (n == 0 || n > VITALS_PIPE_MAX_FRAME) {
        *why = n ? "frame larger than 64 KiB" : "empty frame";
        return -1;
    }
    if (d->len < 4 + (size_t)n)
        return 0;
    reader r = {d->buf + 5, d->buf + 4 + n, FALSE};
    memset(msg, 0, sizeof *msg);
    msg->type = (vitals_pipe_type)d->buf[4];
    switch (msg->type) {
    case VITALS_PIPE_COLLECT:
    case VITALS_PIPE_QUIT:
    case VITALS_PIPE_DONE:
        break;
    case VITALS_PIPE_HELLO:
    case VITALS_PIPE_FAIL:
        msg->text = get_string(&r);
        break;
    case VITALS_PIPE_LOG:
        msg->level = get_u32(&r);
        msg->text = get_string(&r);
        r.bad |= msg->text == NULL;
        break;
    case VITALS_PIPE_DESC:
        msg->handle = get_u32(&r);
        get_desc(&r, &msg->desc);
        break;
    case VITALS_PIPE_SET:
    case VITALS_PIPE_ADD:
    case VITALS_PIPE_OBSERVE:
        msg->handle = get_u32(&r);
        msg->number = get_double(&r);
        break;
    case VITALS_PIPE_TEXT:
        msg->handle = get_u32(&r);
        msg->text = get_string(&r);
        break;
    case VITALS_PIPE_CLEAR:
        msg->handle = get_u32(&r);
        break;
    default:
        *why = "unknown message type";
        return -1;
    }
    if (r.bad || r.p != r.end) {
        *why = r.bad ? "truncated or malformed message" : "bytes left over after a message";
        return -1;
    }
    d->consumed = 4 + n;
    return 1;
}
