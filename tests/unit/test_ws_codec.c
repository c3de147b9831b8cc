/*
 * test_ws_codec.c — unit tests for core/ws_codec.c (RFC 6455 framing).
 *
 * Every rule the reader enforces is exercised with the exact close code it
 * must produce; streams are fed whole, in random pieces and one byte at a
 * time, and must yield the same events.  Client frames are built by
 * client_frame()/raw_frame() below, masked with a fixed key.
 */
#include "ws_codec.h"
#include "run_suite.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIN 0x80u
static const uint8_t MASK[4] = {0x37, 0xFA, 0x21, 0x3D};

/*
 * Builds a frame with first byte b0 (FIN | RSV | opcode, taken as is, so
 * malformed frames can be built) and the shortest length form; masks the
 * payload with MASK when `masked`.  Returns the frame length.
 */
static size_t raw_frame(uint8_t *out, unsigned b0, bool masked, const void *payload, size_t len)
{
    size_t h = 0;
    out[h++] = (uint8_t)b0;
    uint8_t mbit = masked ? 0x80 : 0x00;
    if (len < 126) {
        out[h++] = (uint8_t)(mbit | len);
    } else if (len <= 0xFFFF) {
        out[h++] = mbit | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = mbit | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (masked) {
        memcpy(out + h, MASK, 4);
        h += 4;
    }
    if (len)
        memcpy(out + h, payload, len);
    if (masked)
        for (size_t i = 0; i < len; i++)
            out[h + i] ^= MASK[i & 3];
    return h + len;
}

/* A well-formed masked client frame, as every browser sends. */
static size_t client_frame(uint8_t *out, unsigned b0, const void *payload, size_t len)
{
    return raw_frame(out, b0, true, payload, len);
}

/* Appends a masked client frame at *pos. */
static void append(uint8_t *buf, size_t *pos, unsigned b0, const char *payload)
{
    *pos += client_frame(buf + *pos, b0, payload, strlen(payload));
}

/* One recorded event, with a copy of (the start of) its data. */
typedef struct rec {
    ws_event_type type;
    uint16_t code;
    size_t len;
    char data[512];
} rec;

/*
 * Feeds buf to r in pieces of `chunk` bytes (0: all at once), looping on each
 * piece as the API asks, and records events into out.  Stops at ERROR or
 * CLOSE.  Returns the number of events.
 */
static size_t run(ws_reader *r, const uint8_t *buf, size_t len, size_t chunk, rec *out,
                  size_t max)
{
    size_t n = 0, off = 0;
    if (chunk == 0)
        chunk = len ? len : 1;
    while (off < len) {
        size_t piece = len - off < chunk ? len - off : chunk;
        size_t done = 0;
        while (done < piece) {
            ws_event ev;
            size_t used = ws_reader_feed(r, buf + off + done, piece - done, &ev);
            ck_assert_uint_le(used, piece - done);
            done += used;
            if (ev.type == WS_EV_NONE) {
                ck_assert_uint_eq(done, piece);
                continue;
            }
            ck_assert_uint_lt(n, max);
            out[n].type = ev.type;
            out[n].code = ev.close_code;
            out[n].len = ev.len;
            memset(out[n].data, 0, sizeof out[n].data);
            if (ev.len) {
                ck_assert_ptr_nonnull(ev.data);
                memcpy(out[n].data, ev.data, ev.len < 511 ? ev.len : 511);
            }
            if (ev.type == WS_EV_ERROR)
                ck_assert_ptr_nonnull(ev.reason);
            n++;
            if (ev.type == WS_EV_ERROR || ev.type == WS_EV_CLOSE)
                return n;
        }
        off += piece;
    }
    return n;
}

/* Feeds one whole buffer to a fresh reader and returns the first event. */
static rec feed_one(const uint8_t *buf, size_t len, size_t max_message)
{
    ws_reader r;
    rec ev[8];
    ws_reader_init(&r, max_message);
    size_t n = run(&r, buf, len, 0, ev, 8);
    ws_reader_free(&r);
    ck_assert_uint_ge(n, 1);
    return ev[0];
}

/* Asserts that buf, fed whole and byte by byte, fails with `code`. */
static void expect_error_max(const uint8_t *buf, size_t len, uint16_t code, size_t max_message)
{
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        ws_reader r;
        rec ev[8];
        ws_reader_init(&r, max_message);
        size_t n = run(&r, buf, len, chunk, ev, 8);
        ck_assert_uint_ge(n, 1);
        ck_assert_int_eq(ev[n - 1].type, WS_EV_ERROR);
        ck_assert_uint_eq(ev[n - 1].code, code);
        ws_reader_free(&r);
    }
}

/* expect_error_max with a 64 KiB limit, which no error test comes near. */
static void expect_error(const uint8_t *buf, size_t len, uint16_t code)
{
    expect_error_max(buf, len, code, 1 << 16);
}

/* ---- header ------------------------------------------------------------- */

START_TEST(parse_7bit)
{
    uint8_t buf[64];
    size_t len = client_frame(buf, FIN | WS_OP_TEXT, "hello", 5);
    ws_frame_header_info h;
    uint16_t code = 0;
    ck_assert_int_eq(ws_frame_parse(buf, len, &h, &code), WS_PARSE_OK);
    ck_assert(h.fin);
    ck_assert_uint_eq(h.rsv, 0);
    ck_assert_int_eq(h.opcode, WS_OP_TEXT);
    ck_assert(h.masked);
    ck_assert_mem_eq(h.mask, MASK, 4);
    ck_assert_uint_eq(h.payload_len, 5);
    ck_assert_uint_eq(h.header_len, 6);
    /* 125 is the largest 7-bit length. */
    uint8_t b[2] = {0x02, 125};
    ck_assert_int_eq(ws_frame_parse(b, 2, &h, &code), WS_PARSE_OK);
    ck_assert(!h.fin);
    ck_assert(!h.masked);
    ck_assert_uint_eq(h.payload_len, 125);
    ck_assert_uint_eq(h.header_len, 2);
}
END_TEST

START_TEST(parse_16bit)
{
    uint8_t b[8] = {0x82, 0x80 | 126, 0x01, 0x2C, 1, 2, 3, 4};
    ws_frame_header_info h;
    uint16_t code = 0;
    ck_assert_int_eq(ws_frame_parse(b, 8, &h, &code), WS_PARSE_OK);
    ck_assert_uint_eq(h.payload_len, 300);
    ck_assert_uint_eq(h.header_len, 8);
    ck_assert_int_eq(h.opcode, WS_OP_BINARY);
    b[1] = 126;
    b[2] = 0xFF;
    b[3] = 0xFF;
    ck_assert_int_eq(ws_frame_parse(b, 4, &h, &code), WS_PARSE_OK);
    ck_assert_uint_eq(h.payload_len, 65535);
    ck_assert_uint_eq(h.header_len, 4);
}
END_TEST

START_TEST(parse_64bit)
{
    uint8_t b[14] = {0x81, 0x80 | 127, 0, 0, 0, 0x01, 0, 0, 0, 0x05, 9, 8, 7, 6};
    ws_frame_header_info h;
    uint16_t code = 0;
    ck_assert_int_eq(ws_frame_parse(b, 14, &h, &code), WS_PARSE_OK);
    ck_assert_uint_eq(h.payload_len, ((uint64_t)1 << 32) + 5);
    ck_assert_uint_eq(h.header_len, 14);
    ck_assert_uint_eq(h.mask[0], 9);
    ck_assert_uint_eq(h.mask[3], 6);
    /* Largest legal length: top bit clear. */
    uint8_t m[10] = {0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    ck_assert_int_eq(ws_frame_parse(m, 10, &h, &code), WS_PARSE_OK);
    ck_assert_uint_eq(h.payload_len, UINT64_MAX >> 1);
    ck_assert_uint_eq(h.header_len, 10);
}
END_TEST

START_TEST(parse_64bit_top_bit)
{
    uint8_t b[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    ws_frame_header_info h;
    for (size_t n = 3; n <= 10; n++) {
        uint16_t code = 0;
        ck_assert_int_eq(ws_frame_parse(b, n, &h, &code), WS_PARSE_ERROR);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
    }
}
END_TEST

START_TEST(parse_need_more)
{
    /* Every proper prefix of each header form is incomplete. */
    uint8_t f7[6] = {0x81, 0x85, 1, 2, 3, 4};
    uint8_t f16[8] = {0x81, 0x80 | 126, 0x01, 0x00, 1, 2, 3, 4};
    uint8_t f64[14] = {0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4};
    uint8_t u64[10] = {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0};
    const uint8_t *hs[] = {f7, f16, f64, u64};
    size_t lens[] = {6, 8, 14, 10};
    for (size_t k = 0; k < 4; k++) {
        ws_frame_header_info h;
        uint16_t code = 0;
        for (size_t n = 0; n < lens[k]; n++)
            ck_assert_int_eq(ws_frame_parse(hs[k], n, &h, &code), WS_PARSE_NEED_MORE);
        ck_assert_int_eq(ws_frame_parse(hs[k], lens[k], &h, &code), WS_PARSE_OK);
        ck_assert_uint_eq(h.header_len, lens[k]);
    }
}
END_TEST

START_TEST(parse_rsv_and_opcodes)
{
    ws_frame_header_info h;
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        uint8_t b[2] = {(uint8_t)(FIN | (rsv << 4) | WS_OP_TEXT), 0x80};
        uint16_t code = 0;
        ck_assert_int_eq(ws_frame_parse(b, 2, &h, &code), WS_PARSE_ERROR);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
        /* Reported as soon as the first byte shows it. */
        ck_assert_int_eq(ws_frame_parse(b, 1, &h, &code), WS_PARSE_ERROR);
    }
    for (unsigned op = 0; op < 16; op++) {
        uint8_t b[2] = {(uint8_t)(FIN | op), 0x00};
        uint16_t code = 0;
        bool known = op <= 2 || (op >= 8 && op <= 10);
        ck_assert_int_eq(ws_frame_parse(b, 2, &h, &code), known ? WS_PARSE_OK : WS_PARSE_ERROR);
        if (!known)
            ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
    }
}
END_TEST

START_TEST(parse_control_rules)
{
    ws_frame_header_info h;
    uint16_t code = 0;
    for (unsigned op = WS_OP_CLOSE; op <= WS_OP_PONG; op++) {
        uint8_t frag[2] = {(uint8_t)op, 0x80};
        ck_assert_int_eq(ws_frame_parse(frag, 2, &h, &code), WS_PARSE_ERROR);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
        uint8_t ok[2] = {(uint8_t)(FIN | op), 125};
        ck_assert_int_eq(ws_frame_parse(ok, 2, &h, &code), WS_PARSE_OK);
        uint8_t big[4] = {(uint8_t)(FIN | op), 126, 0, 126};
        code = 0;
        ck_assert_int_eq(ws_frame_parse(big, 4, &h, &code), WS_PARSE_ERROR);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
        uint8_t small16[4] = {(uint8_t)(FIN | op), 126, 0, 5}; /* even if the value is small */
        ck_assert_int_eq(ws_frame_parse(small16, 4, &h, &code), WS_PARSE_ERROR);
    }
}
END_TEST

START_TEST(header_write_round_trip)
{
    const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 1000000, (uint64_t)1 << 40};
    const size_t hlen[] = {2, 2, 2, 4, 4, 4, 10, 10, 10};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t out[WS_MAX_HEADER];
        size_t n = ws_frame_header(out, i % 2 == 0, WS_OP_BINARY, lens[i]);
        ck_assert_uint_eq(n, hlen[i]);
        ws_frame_header_info h;
        uint16_t code = 0;
        ck_assert_int_eq(ws_frame_parse(out, n, &h, &code), WS_PARSE_OK);
        ck_assert_uint_eq(h.payload_len, lens[i]);
        ck_assert_uint_eq(h.header_len, n);
        ck_assert(!h.masked);
        ck_assert(h.fin == (i % 2 == 0));
        ck_assert_int_eq(h.opcode, WS_OP_BINARY);
    }
    uint8_t out[WS_MAX_HEADER];
    ck_assert_uint_eq(ws_frame_header(out, true, WS_OP_TEXT, 3), 2);
    ck_assert_uint_eq(out[0], 0x81);
    ck_assert_uint_eq(out[1], 3);
    ck_assert_uint_eq(ws_frame_header(out, true, WS_OP_TEXT, 300), 4);
    ck_assert_uint_eq(out[1], 126);
    ck_assert_uint_eq(out[2], 0x01);
    ck_assert_uint_eq(out[3], 0x2C);
}
END_TEST

/* ---- masking ------------------------------------------------------------ */

START_TEST(unmask_round_trip_offsets)
{
    uint8_t orig[300], whole[300], piece[300];
    for (size_t i = 0; i < sizeof orig; i++)
        orig[i] = (uint8_t)(i * 7 + 3);
    /* Reference: byte i XOR mask[i % 4]. */
    memcpy(whole, orig, sizeof orig);
    ws_unmask(whole, sizeof whole, MASK, 0);
    for (size_t i = 0; i < sizeof orig; i++)
        ck_assert_uint_eq(whole[i], orig[i] ^ MASK[i & 3]);
    /* The same result in pieces of every size, each with its payload offset. */
    for (size_t step = 1; step <= 40; step++) {
        memcpy(piece, orig, sizeof orig);
        for (size_t off = 0; off < sizeof piece; off += step) {
            size_t n = sizeof piece - off < step ? sizeof piece - off : step;
            ws_unmask(piece + off, n, MASK, off);
        }
        ck_assert_mem_eq(piece, whole, sizeof whole);
    }
    /* A large offset behaves like offset % 4; twice restores the original. */
    memcpy(piece, orig + 5, 200);
    ws_unmask(piece, 200, MASK, ((uint64_t)1 << 40) + 5);
    ck_assert_mem_eq(piece, whole + 5, 200);
    ws_unmask(piece, 200, MASK, 5);
    ck_assert_mem_eq(piece, orig + 5, 200);
    ws_unmask(piece, 0, MASK, 3); /* empty is a no-op */
}
END_TEST

/* ---- UTF-8 -------------------------------------------------------------- */

/*
 * ws_utf8_valid of s, after checking that the incremental check agrees when
 * s arrives in two pieces split at every position and one byte at a time
 * (a character split across fragments must not change the verdict).
 */
static bool utf8(const char *s)
{
    const uint8_t *b = (const uint8_t *)s;
    size_t len = strlen(s);
    bool whole = ws_utf8_valid(b, len);
    for (size_t cut = 0; cut <= len; cut++) {
        ws_utf8 u = {0};
        bool ok = ws_utf8_feed(&u, b, cut) && ws_utf8_feed(&u, b + cut, len - cut) && u.need == 0;
        ck_assert_msg(ok == whole, "split at %zu of \"%s\" changes the verdict", cut, s);
    }
    ws_utf8 u = {0};
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++)
        ok = ws_utf8_feed(&u, b + i, 1);
    ck_assert(ok && u.need == 0 ? whole : !whole);
    return whole;
}

START_TEST(utf8_valid_cases)
{
    ck_assert(ws_utf8_valid((const uint8_t *)"", 0));
    ck_assert(utf8("plain ascii {\"type\":\"ping\"}"));
    ck_assert(utf8("caf\xC3\xA9"));                 /* U+00E9 */
    ck_assert(utf8("\xC2\x80"));                    /* U+0080, smallest 2-byte */
    ck_assert(utf8("\xDF\xBF"));                    /* U+07FF */
    ck_assert(utf8("\xE0\xA0\x80"));                /* U+0800, smallest 3-byte */
    ck_assert(utf8("\xE2\x82\xAC"));                /* euro sign */
    ck_assert(utf8("\xED\x9F\xBF"));                /* U+D7FF, just below surrogates */
    ck_assert(utf8("\xEE\x80\x80"));                /* U+E000, just above */
    ck_assert(utf8("\xEF\xBF\xBF"));                /* U+FFFF */
    ck_assert(utf8("\xF0\x90\x80\x80"));            /* U+10000 */
    ck_assert(utf8("\xF0\x9D\x84\x9E"));            /* musical G clef */
    ck_assert(utf8("\xF4\x8F\xBF\xBF"));            /* U+10FFFF */
    ck_assert(utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5")); /* kosme */
    const uint8_t nul[3] = {'a', 0, 'b'};            /* U+0000 is valid */
    ck_assert(ws_utf8_valid(nul, 3));
}
END_TEST

START_TEST(utf8_invalid_cases)
{
    /* Overlong forms. */
    ck_assert(!utf8("\xC0\x80"));
    ck_assert(!utf8("\xC0\xAF"));
    ck_assert(!utf8("\xC1\xBF"));
    ck_assert(!utf8("\xE0\x80\x80"));
    ck_assert(!utf8("\xE0\x9F\xBF"));
    ck_assert(!utf8("\xF0\x80\x80\x80"));
    ck_assert(!utf8("\xF0\x8F\xBF\xBF"));
    /* Surrogates. */
    ck_assert(!utf8("\xED\xA0\x80"));
    ck_assert(!utf8("\xED\xBF\xBF"));
    ck_assert(!utf8("\xED\xA0\x80\xED\xB0\x80")); /* a CESU-8 pair */
    /* Beyond U+10FFFF and bytes that never lead. */
    ck_assert(!utf8("\xF4\x90\x80\x80"));
    ck_assert(!utf8("\xF5\x80\x80\x80"));
    ck_assert(!utf8("\xF7\xBF\xBF\xBF"));
    ck_assert(!utf8("\xF8\x88\x80\x80\x80"));
    ck_assert(!utf8("\xFC\x84\x80\x80\x80\x80"));
    ck_assert(!utf8("\xFE"));
    ck_assert(!utf8("\xFF"));
    /* Truncated sequences, at the end and in the middle. */
    ck_assert(!utf8("\xC3"));
    ck_assert(!utf8("\xE2\x82"));
    ck_assert(!utf8("\xF0\x9D\x84"));
    ck_assert(!utf8("ab\xE2\x82"));
    ck_assert(!utf8("\xE2\x82" "a"));
    /* Stray or wrong continuation bytes. */
    ck_assert(!utf8("\x80"));
    ck_assert(!utf8("a\xBF" "b"));
    ck_assert(!utf8("\xC3\x28"));
    ck_assert(!utf8("\xE2\x28\xA1"));
    ck_assert(!utf8("\xF0\x9D\x84\xC0"));
}
END_TEST

/* ---- close payloads ----------------------------------------------------- */

START_TEST(close_payload_validation)
{
    uint16_t code = 0;
    ck_assert(ws_close_payload_valid(NULL, 0, &code));
    ck_assert_uint_eq(code, WS_CLOSE_NO_STATUS);
    const uint8_t one[1] = {0x03};
    ck_assert(!ws_close_payload_valid(one, 1, &code));
    ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);

    const unsigned good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                             3000, 3999, 4000, 4999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t p[2] = {(uint8_t)(good[i] >> 8), (uint8_t)good[i]};
        ck_assert_msg(ws_close_payload_valid(p, 2, &code), "code %u", good[i]);
        ck_assert_uint_eq(code, good[i]);
    }
    const unsigned bad[] = {0, 1, 999, 1004, 1005, 1006, 1012, 1015, 1016, 1100, 2000,
                            2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
        ck_assert_msg(!ws_close_payload_valid(p, 2, &code), "code %u", bad[i]);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL_ERROR);
    }
    const uint8_t reason[] = {0x03, 0xE8, 'b', 'y', 'e', 0xC3, 0xA9};
    ck_assert(ws_close_payload_valid(reason, sizeof reason, &code));
    ck_assert_uint_eq(code, 1000);
    const uint8_t badreason[] = {0x03, 0xE8, 'b', 0xC0, 0x80};
    ck_assert(!ws_close_payload_valid(badreason, sizeof badreason, &code));
    ck_assert(ws_close_payload_valid(reason, sizeof reason, NULL));
}
END_TEST

START_TEST(close_frame_build)
{
    uint8_t out[WS_MAX_HEADER + 125];
    ck_assert_uint_eq(ws_close_frame(out, 0, "ignored"), 2);
    ck_assert_uint_eq(out[0], 0x88);
    ck_assert_uint_eq(out[1], 0x00);

    size_t n = ws_close_frame(out, 1000, "bye");
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(out[0], 0x88);
    ck_assert_uint_eq(out[1], 5);
    ck_assert_uint_eq(out[2], 0x03);
    ck_assert_uint_eq(out[3], 0xE8);
    ck_assert_mem_eq(out + 4, "bye", 3);

    ck_assert_uint_eq(ws_close_frame(out, WS_CLOSE_GOING_AWAY, NULL), 4);
    ck_assert_uint_eq(out[1], 2);

    /* A long reason is cut so the payload is exactly 125 bytes. */
    char longr[300];
    memset(longr, 'x', sizeof longr - 1);
    longr[sizeof longr - 1] = 0;
    n = ws_close_frame(out, 1001, longr);
    ck_assert_uint_eq(n, 2 + 125);
    ck_assert_uint_eq(out[1], 125);
    uint16_t code = 0;
    ck_assert(ws_close_payload_valid(out + 2, 125, &code));
    ck_assert_uint_eq(code, 1001);

    /* ... and never in the middle of a character: 122 'x' then a euro sign. */
    char multi[200];
    memset(multi, 'x', 122);
    strcpy(multi + 122, "\xE2\x82\xAC\xE2\x82\xAC");
    n = ws_close_frame(out, 1000, multi);
    ck_assert_uint_eq(n, 2 + 2 + 122);
    ck_assert(ws_close_payload_valid(out + 2, n - 2, &code));
}
END_TEST

/* ---- handshake ---------------------------------------------------------- */

START_TEST(accept_key)
{
    char out[WS_ACCEPT_LEN];
    ck_assert(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ck_assert(ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", out));
    ck_assert_uint_eq(strlen(out), WS_ACCEPT_LEN - 1);

    ck_assert(!ws_accept_key(NULL, out));
    ck_assert(!ws_accept_key("", out));
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out));   /* 23 */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out)); /* 25 */
    ck_assert(!ws_accept_key(" dGhlIHNhbXBsZSBub25jZQ==", out)); /* untrimmed */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ!=", out)); /* bad char */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub2*jZQ==", out)); /* bad char */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQAA", out)); /* 18 bytes */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25jZ===", out)); /* bad padding */
    ck_assert(!ws_accept_key("dGhlIHNhbXBsZSBub25j=Q==", out)); /* '=' inside */
}
END_TEST

/* ---- reader: messages --------------------------------------------------- */

START_TEST(reader_single_messages)
{
    uint8_t buf[512];
    size_t len = client_frame(buf, FIN | WS_OP_TEXT, "{\"type\":\"ping\"}", 15);
    rec e = feed_one(buf, len, 1024);
    ck_assert_int_eq(e.type, WS_EV_TEXT);
    ck_assert_uint_eq(e.len, 15);
    ck_assert_str_eq(e.data, "{\"type\":\"ping\"}");

    const uint8_t bin[4] = {0, 0xFF, 0x80, 0xC0}; /* not UTF-8: fine in binary */
    len = client_frame(buf, FIN | WS_OP_BINARY, bin, 4);
    e = feed_one(buf, len, 1024);
    ck_assert_int_eq(e.type, WS_EV_BINARY);
    ck_assert_uint_eq(e.len, 4);
    ck_assert_mem_eq(e.data, bin, 4);

    len = client_frame(buf, FIN | WS_OP_TEXT, "", 0);
    e = feed_one(buf, len, 1024);
    ck_assert_int_eq(e.type, WS_EV_TEXT);
    ck_assert_uint_eq(e.len, 0);

    /* 16-bit length payload, exactly max_message. */
    char big[300];
    memset(big, 'a', sizeof big);
    len = client_frame(buf, FIN | WS_OP_TEXT, big, sizeof big);
    e = feed_one(buf, len, sizeof big);
    ck_assert_int_eq(e.type, WS_EV_TEXT);
    ck_assert_uint_eq(e.len, sizeof big);
    ck_assert_mem_eq(e.data, big, sizeof big);
}
END_TEST

START_TEST(reader_control_events)
{
    uint8_t buf[512];
    size_t len = client_frame(buf, FIN | WS_OP_PING, "abc", 3);
    rec e = feed_one(buf, len, 16);
    ck_assert_int_eq(e.type, WS_EV_PING);
    ck_assert_str_eq(e.data, "abc");

    char p125[125];
    memset(p125, 'p', sizeof p125);
    len = client_frame(buf, FIN | WS_OP_PONG, p125, sizeof p125);
    e = feed_one(buf, len, 0); /* control frames do not count against max_message */
    ck_assert_int_eq(e.type, WS_EV_PONG);
    ck_assert_uint_eq(e.len, 125);
    ck_assert_mem_eq(e.data, p125, 125);

    const uint8_t cl[] = {0x03, 0xE9, 'g', 'o', 'n', 'e'};
    len = client_frame(buf, FIN | WS_OP_CLOSE, cl, sizeof cl);
    e = feed_one(buf, len, 16);
    ck_assert_int_eq(e.type, WS_EV_CLOSE);
    ck_assert_uint_eq(e.code, 1001);
    ck_assert_uint_eq(e.len, 4);
    ck_assert_str_eq(e.data, "gone");

    len = client_frame(buf, FIN | WS_OP_CLOSE, "", 0);
    e = feed_one(buf, len, 16);
    ck_assert_int_eq(e.type, WS_EV_CLOSE);
    ck_assert_uint_eq(e.code, WS_CLOSE_NO_STATUS);
    ck_assert_uint_eq(e.len, 0);
}
END_TEST

START_TEST(reader_fragmented_with_ping)
{
    uint8_t buf[512];
    size_t pos = 0;
    append(buf, &pos, WS_OP_TEXT, "Hel");
    append(buf, &pos, FIN | WS_OP_PING, "p1");
    append(buf, &pos, WS_OP_CONTINUATION, "lo \xE2\x82"); /* euro split across fragments */
    append(buf, &pos, FIN | WS_OP_PONG, "");
    append(buf, &pos, WS_OP_CONTINUATION, "");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "\xAC!");
    append(buf, &pos, FIN | WS_OP_BINARY, "next");

    const size_t chunks[] = {0, 1, 2, 3, 5, 7, 13};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        ws_reader r;
        rec ev[8];
        ws_reader_init(&r, 64);
        size_t n = run(&r, buf, pos, chunks[c], ev, 8);
        ck_assert_uint_eq(n, 4);
        ck_assert_int_eq(ev[0].type, WS_EV_PING);
        ck_assert_str_eq(ev[0].data, "p1");
        ck_assert_int_eq(ev[1].type, WS_EV_PONG);
        ck_assert_uint_eq(ev[1].len, 0);
        ck_assert_int_eq(ev[2].type, WS_EV_TEXT);
        ck_assert_str_eq(ev[2].data, "Hello \xE2\x82\xAC!");
        ck_assert_uint_eq(ev[2].len, 10);
        ck_assert_int_eq(ev[3].type, WS_EV_BINARY);
        ck_assert_str_eq(ev[3].data, "next");
        ws_reader_free(&r);
    }
}
END_TEST

/* A stream of mixed frames and the events it must produce. */
static size_t mixed_stream(uint8_t *buf, char big[200])
{
    size_t pos = 0;
    memset(big, 'z', 199);
    big[199] = 0;
    append(buf, &pos, FIN | WS_OP_TEXT, "{\"type\":\"request_metrics\"}");
    append(buf, &pos, FIN | WS_OP_PING, "");
    append(buf, &pos, WS_OP_BINARY, "ab");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "cd");
    append(buf, &pos, FIN | WS_OP_TEXT, big); /* 16-bit length */
    append(buf, &pos, FIN | WS_OP_TEXT, "\xF0\x9D\x84\x9E");
    append(buf, &pos, FIN | WS_OP_CLOSE, "\x03\xE8" "done");
    append(buf, &pos, FIN | WS_OP_TEXT, "after close"); /* must not be read */
    return pos;
}

static void check_mixed(const rec *ev, size_t n, const char *big)
{
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(ev[0].type, WS_EV_TEXT);
    ck_assert_str_eq(ev[0].data, "{\"type\":\"request_metrics\"}");
    ck_assert_int_eq(ev[1].type, WS_EV_PING);
    ck_assert_int_eq(ev[2].type, WS_EV_BINARY);
    ck_assert_str_eq(ev[2].data, "abcd");
    ck_assert_int_eq(ev[3].type, WS_EV_TEXT);
    ck_assert_uint_eq(ev[3].len, 199);
    ck_assert_str_eq(ev[3].data, big);
    ck_assert_int_eq(ev[4].type, WS_EV_TEXT);
    ck_assert_str_eq(ev[4].data, "\xF0\x9D\x84\x9E");
    ck_assert_int_eq(ev[5].type, WS_EV_CLOSE);
    ck_assert_uint_eq(ev[5].code, 1000);
    ck_assert_str_eq(ev[5].data, "done");
}

START_TEST(reader_byte_at_a_time)
{
    uint8_t buf[1024];
    char big[200];
    size_t len = mixed_stream(buf, big);
    ws_reader r;
    rec ev[16];
    ws_reader_init(&r, 4096);
    /* Feed strictly one byte per call: each call consumes it or ends the stream. */
    size_t n = 0;
    for (size_t i = 0; i < len && n < 16; i++) {
        ws_event e;
        size_t used = ws_reader_feed(&r, buf + i, 1, &e);
        if (e.type == WS_EV_NONE) {
            ck_assert_uint_eq(used, 1);
            continue;
        }
        ck_assert_uint_eq(used, 1); /* each event completes on its last byte */
        ev[n].type = e.type;
        ev[n].code = e.close_code;
        ev[n].len = e.len;
        memset(ev[n].data, 0, sizeof ev[n].data);
        memcpy(ev[n].data, e.data, e.len);
        n++;
        if (e.type == WS_EV_CLOSE)
            break;
    }
    check_mixed(ev, n, big);
    ws_reader_free(&r);
}
END_TEST

START_TEST(reader_many_frames_one_buffer)
{
    uint8_t buf[1024];
    char big[200];
    size_t len = mixed_stream(buf, big);
    ws_reader r;
    rec ev[16];
    ws_reader_init(&r, 4096);
    size_t n = run(&r, buf, len, 0, ev, 16);
    check_mixed(ev, n, big);
    /* After the close the reader takes nothing more. */
    ws_event e;
    ck_assert_uint_eq(ws_reader_feed(&r, buf, len, &e), 0);
    ck_assert_int_eq(e.type, WS_EV_NONE);
    ws_reader_free(&r);

    /* Hundreds of small frames in one buffer. */
    static uint8_t lots[300 * 16];
    size_t pos = 0;
    for (int i = 0; i < 300; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%03d", i);
        append(lots, &pos, FIN | (i % 3 == 2 ? WS_OP_PING : WS_OP_TEXT), msg);
    }
    rec *many = calloc(300, sizeof *many);
    ck_assert_ptr_nonnull(many);
    ws_reader_init(&r, 64);
    n = run(&r, lots, pos, 0, many, 300);
    ck_assert_uint_eq(n, 300);
    for (int i = 0; i < 300; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%03d", i);
        ck_assert_int_eq(many[i].type, i % 3 == 2 ? WS_EV_PING : WS_EV_TEXT);
        ck_assert_str_eq(many[i].data, msg);
    }
    ws_reader_free(&r);
    free(many);
}
END_TEST

START_TEST(reader_random_splits)
{
    uint8_t buf[1024];
    char big[200];
    size_t len = mixed_stream(buf, big);
    uint32_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        ws_reader r;
        rec ev[16];
        size_t n = 0, off = 0;
        ws_reader_init(&r, 4096);
        while (off < len && n < 16) {
            seed = seed * 1103515245u + 12345u;
            size_t piece = 1 + (seed >> 16) % 40;
            if (piece > len - off)
                piece = len - off;
            size_t got = run(&r, buf + off, piece, 0, ev + n, 16 - n);
            n += got;
            off += piece;
            if (got && ev[n - 1].type == WS_EV_CLOSE)
                break;
        }
        check_mixed(ev, n, big);
        ws_reader_free(&r);
    }
}
END_TEST

/* ---- reader: protocol errors -------------------------------------------- */

START_TEST(reader_unmasked)
{
    uint8_t buf[64];
    size_t len = raw_frame(buf, FIN | WS_OP_TEXT, false, "hi", 2);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    len = raw_frame(buf, FIN | WS_OP_PING, false, "", 0);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
}
END_TEST

START_TEST(reader_bad_headers)
{
    uint8_t buf[256];
    size_t len;
    for (unsigned rsv = 1; rsv < 8; rsv++) {
        len = client_frame(buf, FIN | (rsv << 4) | WS_OP_TEXT, "x", 1);
        expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    }
    const unsigned reserved[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        len = client_frame(buf, FIN | reserved[i], "x", 1);
        expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    }
    /* Fragmented control frames. */
    len = client_frame(buf, WS_OP_PING, "x", 1);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    len = client_frame(buf, WS_OP_CLOSE, "", 0);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    /* Control frame with 126 bytes. */
    char p[126];
    memset(p, 'p', sizeof p);
    len = client_frame(buf, FIN | WS_OP_PING, p, sizeof p);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    /* 64-bit length with the top bit set. */
    const uint8_t top[14] = {0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
    expect_error(top, sizeof top, WS_CLOSE_PROTOCOL_ERROR);
}
END_TEST

START_TEST(reader_bad_sequences)
{
    uint8_t buf[256];
    size_t pos = 0;
    /* Continuation with no message started. */
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "x");
    expect_error(buf, pos, WS_CLOSE_PROTOCOL_ERROR);
    pos = 0;
    append(buf, &pos, WS_OP_CONTINUATION, "x");
    expect_error(buf, pos, WS_CLOSE_PROTOCOL_ERROR);
    /* A new TEXT while a fragmented message is in progress. */
    pos = 0;
    append(buf, &pos, WS_OP_TEXT, "a");
    append(buf, &pos, FIN | WS_OP_TEXT, "b");
    expect_error(buf, pos, WS_CLOSE_PROTOCOL_ERROR);
    /* A new BINARY likewise, even after a ping in between. */
    pos = 0;
    append(buf, &pos, WS_OP_BINARY, "a");
    append(buf, &pos, FIN | WS_OP_PING, "");
    append(buf, &pos, WS_OP_BINARY, "b");
    expect_error(buf, pos, WS_CLOSE_PROTOCOL_ERROR);
    /* Continuation after a message already ended. */
    pos = 0;
    append(buf, &pos, FIN | WS_OP_TEXT, "a");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "b");
    ws_reader r;
    rec ev[4];
    ws_reader_init(&r, 64);
    ck_assert_uint_eq(run(&r, buf, pos, 0, ev, 4), 2);
    ck_assert_int_eq(ev[0].type, WS_EV_TEXT);
    ck_assert_int_eq(ev[1].type, WS_EV_ERROR);
    ck_assert_uint_eq(ev[1].code, WS_CLOSE_PROTOCOL_ERROR);
    /* After an error the reader consumes nothing and reports nothing. */
    ws_event e;
    ck_assert_uint_eq(ws_reader_feed(&r, buf, pos, &e), 0);
    ck_assert_int_eq(e.type, WS_EV_NONE);
    ws_reader_free(&r);
}
END_TEST

START_TEST(reader_bad_close_payloads)
{
    uint8_t buf[256];
    size_t len = client_frame(buf, FIN | WS_OP_CLOSE, "\x03", 1);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
        len = client_frame(buf, FIN | WS_OP_CLOSE, p, 2);
        expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    }
    len = client_frame(buf, FIN | WS_OP_CLOSE, "\x03\xE8\xED\xA0\x80", 5);
    expect_error(buf, len, WS_CLOSE_PROTOCOL_ERROR);
    len = client_frame(buf, FIN | WS_OP_CLOSE, "\x0B\xB8ok", 4); /* 3000 is fine */
    rec e = feed_one(buf, len, 16);
    ck_assert_int_eq(e.type, WS_EV_CLOSE);
    ck_assert_uint_eq(e.code, 3000);
}
END_TEST

START_TEST(reader_invalid_utf8_text)
{
    uint8_t buf[256];
    size_t len = client_frame(buf, FIN | WS_OP_TEXT, "ok\xC0\x80", 4);
    expect_error(buf, len, WS_CLOSE_INVALID_PAYLOAD);
    size_t pos = 0;
    append(buf, &pos, WS_OP_TEXT, "ab\xE2\x82"); /* truncated at the end */
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "cd");
    expect_error(buf, pos, WS_CLOSE_INVALID_PAYLOAD);
    len = client_frame(buf, FIN | WS_OP_TEXT, "\xF4\x90\x80\x80", 4);
    expect_error(buf, len, WS_CLOSE_INVALID_PAYLOAD);
}
END_TEST

START_TEST(reader_invalid_utf8_fails_fast)
{
    /* A bad byte in the first fragment fails the stream at once: the final
     * fragment never has to arrive (RFC 6455 section 8.1). */
    uint8_t buf[256];
    size_t pos = 0;
    append(buf, &pos, WS_OP_TEXT, "ok\xFF");
    ws_reader r;
    rec ev[4];
    ws_reader_init(&r, 64);
    size_t n = run(&r, buf, pos, 0, ev, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ev[0].type, WS_EV_ERROR);
    ck_assert_uint_eq(ev[0].code, WS_CLOSE_INVALID_PAYLOAD);
    ws_reader_free(&r);

    /* Inside one frame, before the frame's payload is complete: a surrogate
     * shows at its second byte, with 100 more bytes announced. */
    char p[104];
    memset(p, 'a', sizeof p);
    memcpy(p, "\xED\xA0", 2);
    size_t len = client_frame(buf, FIN | WS_OP_TEXT, p, sizeof p);
    ws_event e;
    ws_reader_init(&r, 1024);
    size_t used = ws_reader_feed(&r, buf, 4 + 4 + 2, &e); /* 16-bit header, mask, 2 bytes */
    ck_assert_uint_eq(used, 10);
    ck_assert_int_eq(e.type, WS_EV_ERROR);
    ck_assert_uint_eq(e.close_code, WS_CLOSE_INVALID_PAYLOAD);
    ws_reader_free(&r);
    expect_error(buf, len, WS_CLOSE_INVALID_PAYLOAD);

    /* A bad continuation fragment after a ping, the first fragment valid. */
    pos = 0;
    append(buf, &pos, WS_OP_TEXT, "{\"type\":\xC3");
    append(buf, &pos, FIN | WS_OP_PING, "x");
    append(buf, &pos, WS_OP_CONTINUATION, "(");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "}");
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        ws_reader_init(&r, 64);
        n = run(&r, buf, pos, chunk, ev, 4);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(ev[0].type, WS_EV_PING);
        ck_assert_int_eq(ev[1].type, WS_EV_ERROR);
        ck_assert_uint_eq(ev[1].code, WS_CLOSE_INVALID_PAYLOAD);
        ws_reader_free(&r);
    }

    /* Binary messages are not text: the same bytes are fine there. */
    pos = 0;
    append(buf, &pos, WS_OP_BINARY, "ok\xFF");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "\xED\xA0");
    ws_reader_init(&r, 64);
    n = run(&r, buf, pos, 1, ev, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ev[0].type, WS_EV_BINARY);
    ck_assert_uint_eq(ev[0].len, 5);
    ws_reader_free(&r);

    /* A new text message starts with a clean check: a message that ended
     * well leaves no state behind. */
    pos = 0;
    append(buf, &pos, FIN | WS_OP_TEXT, "\xE2\x82\xAC");
    append(buf, &pos, FIN | WS_OP_TEXT, "\xC3\xA9");
    ws_reader_init(&r, 64);
    n = run(&r, buf, pos, 1, ev, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(ev[1].type, WS_EV_TEXT);
    ck_assert_str_eq(ev[1].data, "\xC3\xA9");
    ws_reader_free(&r);
}
END_TEST

START_TEST(reader_close_code_echo_rules)
{
    /* What the hub echoes: the peer's code, or 1005 (send an empty close)
     * when the peer gave none; every valid code range is accepted. */
    uint8_t buf[256];
    const unsigned good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t p[2] = {(uint8_t)(good[i] >> 8), (uint8_t)good[i]};
        size_t len = client_frame(buf, FIN | WS_OP_CLOSE, p, 2);
        rec e = feed_one(buf, len, 16);
        ck_assert_int_eq(e.type, WS_EV_CLOSE);
        ck_assert_uint_eq(e.code, good[i]);
    }
    /* A close in the middle of a fragmented message is still a close. */
    size_t pos = 0;
    append(buf, &pos, WS_OP_TEXT, "par");
    append(buf, &pos, FIN | WS_OP_CLOSE, "\x03\xE8");
    rec e = feed_one(buf, pos, 16);
    ck_assert_int_eq(e.type, WS_EV_CLOSE);
    ck_assert_uint_eq(e.code, 1000);
}
END_TEST

/* ---- reader: size limit ------------------------------------------------- */

START_TEST(reader_too_big_single)
{
    uint8_t buf[256];
    char p[17];
    memset(p, 'a', sizeof p);
    size_t len = client_frame(buf, FIN | WS_OP_TEXT, p, sizeof p);
    ws_reader r;
    ws_event e;
    ws_reader_init(&r, 16);
    /* Decided from the header alone, before any payload byte is read. */
    size_t used = ws_reader_feed(&r, buf, 6, &e);
    ck_assert_uint_eq(used, 6);
    ck_assert_int_eq(e.type, WS_EV_ERROR);
    ck_assert_uint_eq(e.close_code, WS_CLOSE_TOO_BIG);
    ck_assert_ptr_null(r.message);
    ck_assert_uint_eq(r.message_cap, 0);
    ws_reader_free(&r);

    expect_error_max(buf, len, WS_CLOSE_TOO_BIG, 16);

    /* A header announcing 2^62 bytes allocates nothing. */
    const uint8_t huge[14] = {0x82, 0x80 | 127, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    ws_reader_init(&r, 1 << 20);
    used = ws_reader_feed(&r, huge, sizeof huge, &e);
    ck_assert_uint_eq(used, sizeof huge);
    ck_assert_int_eq(e.type, WS_EV_ERROR);
    ck_assert_uint_eq(e.close_code, WS_CLOSE_TOO_BIG);
    ck_assert_ptr_null(r.message);
    ck_assert_uint_eq(r.message_cap, 0);
    ws_reader_free(&r);
}
END_TEST

START_TEST(reader_too_big_fragmented)
{
    uint8_t buf[256];
    size_t pos = 0;
    append(buf, &pos, WS_OP_BINARY, "0123456789");
    append(buf, &pos, FIN | WS_OP_PING, "");
    size_t second = pos;
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "0123456789");
    ws_reader r;
    rec ev[4];
    ws_reader_init(&r, 16);
    /* Up to the second fragment's header only. */
    size_t n = run(&r, buf, second + 6, 0, ev, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(ev[0].type, WS_EV_PING);
    ck_assert_int_eq(ev[1].type, WS_EV_ERROR);
    ck_assert_uint_eq(ev[1].code, WS_CLOSE_TOO_BIG);
    ck_assert_uint_le(r.message_cap, 16);
    ws_reader_free(&r);

    /* Exactly the limit across fragments is fine. */
    pos = 0;
    append(buf, &pos, WS_OP_TEXT, "01234567");
    append(buf, &pos, FIN | WS_OP_CONTINUATION, "89abcdef");
    ws_reader_init(&r, 16);
    n = run(&r, buf, pos, 1, ev, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ev[0].type, WS_EV_TEXT);
    ck_assert_str_eq(ev[0].data, "0123456789abcdef");
    ck_assert_uint_le(r.message_cap, 16);
    ws_reader_free(&r);
}
END_TEST

START_TEST(reader_releases_big_buffer)
{
    static uint8_t buf[70000];
    static char big[66000];
    memset(big, 'q', sizeof big);
    size_t len = client_frame(buf, FIN | WS_OP_BINARY, big, sizeof big); /* 64-bit length */
    ws_reader r;
    ws_event e;
    ws_reader_init(&r, 1 << 20);
    size_t used = ws_reader_feed(&r, buf, len, &e);
    ck_assert_uint_eq(used, len);
    ck_assert_int_eq(e.type, WS_EV_BINARY);
    ck_assert_uint_eq(e.len, sizeof big);
    ck_assert_mem_eq(e.data, big, sizeof big);
    ck_assert_uint_ge(r.message_cap, sizeof big);
    /* The next feed returns the large buffer; a small message reuses little. */
    len = client_frame(buf, FIN | WS_OP_TEXT, "hi", 2);
    used = ws_reader_feed(&r, buf, len, &e);
    ck_assert_int_eq(e.type, WS_EV_TEXT);
    ck_assert_uint_le(r.message_cap, 4096);
    ws_reader_free(&r);
    ck_assert_ptr_null(r.message);
}
END_TEST

static Suite *ws_codec_suite(void)
{
    Suite *s = suite_create("ws_codec");

    TCase *tc = tcase_create("header");
    tcase_add_test(tc, parse_7bit);
    tcase_add_test(tc, parse_16bit);
    tcase_add_test(tc, parse_64bit);
    tcase_add_test(tc, parse_64bit_top_bit);
    tcase_add_test(tc, parse_need_more);
    tcase_add_test(tc, parse_rsv_and_opcodes);
    tcase_add_test(tc, parse_control_rules);
    tcase_add_test(tc, header_write_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("mask");
    tcase_add_test(tc, unmask_round_trip_offsets);
    suite_add_tcase(s, tc);

    tc = tcase_create("utf8");
    tcase_add_test(tc, utf8_valid_cases);
    tcase_add_test(tc, utf8_invalid_cases);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_add_test(tc, close_payload_validation);
    tcase_add_test(tc, close_frame_build);
    suite_add_tcase(s, tc);

    tc = tcase_create("handshake");
    tcase_add_test(tc, accept_key);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_test(tc, reader_single_messages);
    tcase_add_test(tc, reader_control_events);
    tcase_add_test(tc, reader_fragmented_with_ping);
    tcase_add_test(tc, reader_byte_at_a_time);
    tcase_add_test(tc, reader_many_frames_one_buffer);
    tcase_add_test(tc, reader_random_splits);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader_errors");
    tcase_add_test(tc, reader_unmasked);
    tcase_add_test(tc, reader_bad_headers);
    tcase_add_test(tc, reader_bad_sequences);
    tcase_add_test(tc, reader_bad_close_payloads);
    tcase_add_test(tc, reader_invalid_utf8_text);
    tcase_add_test(tc, reader_invalid_utf8_fails_fast);
    tcase_add_test(tc, reader_close_code_echo_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader_limits");
    tcase_add_test(tc, reader_too_big_single);
    tcase_add_test(tc, reader_too_big_fragmented);
    tcase_add_test(tc, reader_releases_big_buffer);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return vitals_run_suite(ws_codec_suite());
}
