/*
 * fuzz_ws_codec.c — libFuzzer target for core/ws_codec.c.
 *
 * Why: every byte a WebSocket client sends reaches ws_reader_feed before
 * anything else looks at it, from any peer that completed a handshake.
 *
 * Input layout: byte 0 picks the reader's max_message (0..65535, so the
 * 1009 path is reachable with small inputs), byte 1 seeds the split points,
 * the rest is the client's byte stream.  The stream is fed twice, once
 * whole and once cut into chunks of 1..N bytes; both runs must report the
 * same events (type, length, close code, payload hash), since TCP may cut a
 * stream anywhere.  Each event is checked against the codec's promises
 * (text is valid UTF-8, messages fit max_message, control payloads fit 125
 * bytes, a reader never stalls on input without reporting an event).
 * The pure helpers (frame parse, header round trip, close payloads, accept
 * key, close frame) are run on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 4096

typedef struct trace {
    size_t n;
    struct {
        int type;
        size_t len;
        uint16_t code;
        uint64_t hash;
    } ev[MAX_EVENTS];
} trace;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_ws_codec: %s\n", what);
    abort();
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Checks one event against the codec's contract and appends it to t. */
static void record(trace *t, const ws_event *ev, size_t max_message)
{
    switch (ev->type) {
    case WS_EV_TEXT:
        if (!ws_utf8_valid(ev->data, ev->len))
            fail("text event with invalid UTF-8");
        /* fall through */
    case WS_EV_BINARY:
        if (ev->len > max_message)
            fail("message longer than max_message");
        if (!ev->data)
            fail("data event with NULL data");
        break;
    case WS_EV_PING:
    case WS_EV_PONG:
    case WS_EV_CLOSE:
        if (ev->len > 125)
            fail("control payload longer than 125 bytes");
        break;
    case WS_EV_ERROR:
        if (ev->close_code != WS_CLOSE_PROTOCOL_ERROR && ev->close_code != WS_CLOSE_INVALID_PAYLOAD &&
            ev->close_code != WS_CLOSE_TOO_BIG && ev->close_code != WS_CLOSE_INTERNAL)
            fail("error event with an unexpected close code");
        if (!ev->reason)
            fail("error event without a reason");
        break;
    default:
        fail("unknown event type");
    }
    if (t->n < MAX_EVENTS) {
        t->ev[t->n].type = ev->type;
        t->ev[t->n].len = ev->len;
        t->ev[t->n].code = ev->close_code;
        t->ev[t->n].hash = ev->len ? fnv(ev->data, ev->len) : 0;
        t->n++;
    }
}

/* Feeds stream[0..len) in chunks (chunk sizes from `seed`; 0 = whole) the
 * way the hub does: loop until consumed, stop after ERROR or CLOSE. */
static void run(const uint8_t *stream, size_t len, size_t max_message, uint8_t seed, trace *t)
{
    ws_reader r;
    ws_reader_init(&r, max_message);
    uint32_t x = seed ? seed * 2654435761u : 0;
    size_t pos = 0;
    int done = 0;
    while (pos < len && !done) {
        size_t chunk = len - pos;
        if (x) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t want = 1 + x % 23;
            if (want < chunk)
                chunk = want;
        }
        /* A private heap copy, so ASan sees any read past the chunk. */
        uint8_t *buf = malloc(chunk);
        memcpy(buf, stream + pos, chunk);
        size_t off = 0;
        while (off < chunk) {
            ws_event ev;
            size_t used = ws_reader_feed(&r, buf + off, chunk - off, &ev);
            if (used > chunk - off)
                fail("consumed more than it was given");
            off += used;
            if (ev.type == WS_EV_NONE) {
                if (off != chunk)
                    fail("no event, yet input left unconsumed");
                break;
            }
            record(t, &ev, max_message);
            if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE) {
                ws_event after;
                if (ws_reader_feed(&r, buf, chunk, &after) != 0 || after.type != WS_EV_NONE)
                    fail("reader accepted input after ERROR or CLOSE");
                done = 1;
                break;
            }
        }
        free(buf);
        pos += chunk;
    }
    ws_reader_free(&r);
}

/* The pure helpers, on the same bytes. */
static void helpers(const uint8_t *data, size_t size)
{
    ws_frame_header_info info;
    uint16_t code = 0;
    ws_parse_result pr = ws_frame_parse(data, size, &info, &code);
    if (pr == WS_PARSE_OK && (info.header_len > size || info.header_len > 14))
        fail("frame header longer than its input");

    /* A server header for any length must parse back to the same frame. */
    if (size >= 9) {
        uint64_t plen = 0;
        memcpy(&plen, data + 1, 8);
        plen &= 0x7fffffffffffffffull;
        ws_opcode ops[] = {WS_OP_TEXT, WS_OP_BINARY, WS_OP_CONTINUATION};
        ws_opcode op = ops[data[0] % 3];
        uint8_t head[WS_MAX_HEADER];
        size_t hl = ws_frame_header(head, data[0] & 0x80, op, plen);
        if (hl != 2 && hl != 4 && hl != 10)
            fail("bad server header length");
        ws_frame_header_info back;
        if (ws_frame_parse(head, hl, &back, &code) != WS_PARSE_OK || back.payload_len != plen ||
            back.opcode != op || back.masked || back.header_len != hl ||
            back.fin != ((data[0] & 0x80) != 0))
            fail("server header does not parse back");
    }

    uint16_t close_code;
    size_t clen = size < 125 ? size : 125;
    if (ws_close_payload_valid(data, clen, &close_code) && clen >= 2 &&
        close_code != (uint16_t)((data[0] << 8) | data[1]))
        fail("close code differs from its payload");

    char key[40];
    size_t klen = size < sizeof key - 1 ? size : sizeof key - 1;
    memcpy(key, data, klen);
    key[klen] = '\0';
    char accept[WS_ACCEPT_LEN];
    if (ws_accept_key(key, accept) && strlen(accept) != WS_ACCEPT_LEN - 1)
        fail("accept key of the wrong length");

    /* A close frame with any valid-UTF-8 reason must be a valid close frame. */
    char reason[200];
    size_t rlen = size < sizeof reason - 1 ? size : sizeof reason - 1;
    memcpy(reason, data, rlen);
    reason[rlen] = '\0';
    rlen = strlen(reason);
    if (ws_utf8_valid((const uint8_t *)reason, rlen)) {
        uint8_t frame[WS_MAX_HEADER + 125];
        size_t fl = ws_close_frame(frame, WS_CLOSE_NORMAL, reason);
        ws_frame_header_info f;
        if (fl > sizeof frame || ws_frame_parse(frame, fl, &f, &code) != WS_PARSE_OK ||
            f.opcode != WS_OP_CLOSE || f.header_len + f.payload_len != fl)
            fail("close frame does not parse back");
        uint16_t c;
        if (!ws_close_payload_valid(frame + f.header_len, (size_t)f.payload_len, &c) ||
            c != WS_CLOSE_NORMAL)
            fail("close frame payload is not valid");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_message = (size_t)data[0] * 257;
    uint8_t seed = data[1];
    const uint8_t *stream = data + 2;
    size_t len = size - 2;

    static trace whole, split;
    whole.n = split.n = 0;
    run(stream, len, max_message, 0, &whole);
    run(stream, len, max_message, seed | 1, &split);
    if (whole.n != split.n)
        fail("the number of events depends on where the stream was split");
    for (size_t i = 0; i < whole.n; i++)
        if (whole.ev[i].type != split.ev[i].type || whole.ev[i].len != split.ev[i].len ||
            whole.ev[i].code != split.ev[i].code || whole.ev[i].hash != split.ev[i].hash)
            fail("events depend on where the stream was split");
    helpers(stream, len);
    return 0;
}
