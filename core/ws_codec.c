/*
 * ws_codec.c — RFC 6455 WebSocket framing for the server side, pure.
 *
 * Why it exists: the hub (ws_hub.c) owns upgraded sockets and fan-out; this
 * file owns the wire format, so that every byte-level rule of RFC 6455 lives
 * in one place that does no I/O, knows no HTTP and can be unit-tested and
 * fuzzed on its own.  It provides
 *
 *   - frame header parsing (ws_frame_parse) and writing (ws_frame_header),
 *   - payload unmasking (ws_unmask),
 *   - UTF-8 validation, whole or incremental (a text message fails at its
 *     first bad byte, even when a character is split across fragments), and
 *     close payload validation,
 *   - server close frames (ws_close_frame),
 *   - the handshake's Sec-WebSocket-Accept value (ws_accept_key), and
 *   - ws_reader, an incremental reader that turns any split of the client's
 *     byte stream into whole events: messages reassembled from fragments,
 *     control frames (which may interleave with fragments), or the first
 *     protocol error with the close code to send.
 *
 * Memory: a reader owns one message buffer, sized from frame headers and never
 * beyond max_message; a message whose header shows it would exceed that is
 * refused with 1009 before anything is allocated.  Control payloads use the
 * fixed 125-byte array in the reader.  GLib is used only for SHA-1 and base64.
 */
#include "ws_codec.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* The GUID every server appends to the client's key (RFC 6455 section 1.3). */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Longest control frame payload (RFC 6455 section 5.5). */
#define WS_MAX_CONTROL 125
/* Between messages a reader keeps at most this much buffer; more is freed. */
#define WS_READER_KEEP 4096

/* True for the opcodes RFC 6455 defines; everything else is reserved. */
static bool ws_opcode_known(unsigned op)
{
    return op == WS_OP_CONTINUATION || op == WS_OP_TEXT || op == WS_OP_BINARY ||
           op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

/* Control opcodes have the high bit of the 4-bit opcode set. */
static bool ws_opcode_is_control(unsigned op)
{
    return (op & 0x8) != 0;
}

/*
 * Parses one frame header at buf[0..len).
 *
 * Returns WS_PARSE_OK and fills *out (header_len includes the mask key) when
 * the whole header is present; WS_PARSE_NEED_MORE when it is not (nothing in
 * *out is meaningful then); WS_PARSE_ERROR with *close_code = 1002 for RSV
 * bits, a reserved opcode, a fragmented control frame, a control payload over
 * 125 bytes, or a 64-bit length with its top bit set.  Errors are reported as
 * soon as the bytes that show them are present, even if the header is not yet
 * complete.  Masking is not required here (the reader enforces it), and
 * non-minimal length encodings are accepted.
 */
ws_parse_result ws_frame_parse(const uint8_t *buf, size_t len, ws_frame_header_info *out,
                               uint16_t *close_code)
{
    if (len < 1)
        return WS_PARSE_NEED_MORE;

    unsigned b0 = buf[0];
    unsigned rsv = (b0 >> 4) & 0x7;
    unsigned op = b0 & 0xF;
    bool fin = (b0 & 0x80) != 0;
    if (rsv != 0 || !ws_opcode_known(op) || (ws_opcode_is_control(op) && !fin)) {
        *close_code = WS_CLOSE_PROTOCOL_ERROR;
        return WS_PARSE_ERROR;
    }
    if (len < 2)
        return WS_PARSE_NEED_MORE;

    unsigned b1 = buf[1];
    bool masked = (b1 & 0x80) != 0;
    unsigned len7 = b1 & 0x7F;
    if (ws_opcode_is_control(op) && len7 > WS_MAX_CONTROL) {
        *close_code = WS_CLOSE_PROTOCOL_ERROR;
        return WS_PARSE_ERROR;
    }

    size_t pos = 2;
    uint64_t payload_len = len7;
    if (len7 == 126) {
        if (len < 4)
            return WS_PARSE_NEED_MORE;
        payload_len = ((uint64_t)buf[2] << 8) | buf[3];
        pos = 4;
    } else if (len7 == 127) {
        if (len < 3)
            return WS_PARSE_NEED_MORE;
        if (buf[2] & 0x80) {
            *close_code = WS_CLOSE_PROTOCOL_ERROR;
            return WS_PARSE_ERROR;
        }
        if (len < 10)
            return WS_PARSE_NEED_MORE;
        payload_len = 0;
        for (size_t i = 2; i < 10; i++)
            payload_len = (payload_len << 8) | buf[i];
        pos = 10;
    }

    if (masked) {
        if (len < pos + 4)
            return WS_PARSE_NEED_MORE;
        memcpy(out->mask, buf + pos, 4);
        pos += 4;
    } else {
        memset(out->mask, 0, sizeof out->mask);
    }

    out->fin = fin;
    out->rsv = rsv;
    out->opcode = (ws_opcode)op;
    out->masked = masked;
    out->payload_len = payload_len;
    out->header_len = pos;
    return WS_PARSE_OK;
}

/*
 * Writes an unmasked server frame header for a payload of payload_len bytes
 * into out, using the shortest length form.  Returns the header length: 2
 * (up to 125), 4 (up to 65535) or 10.  payload_len must be below 2^63.
 */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], bool fin, ws_opcode opcode,
                       uint64_t payload_len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0x00) | ((unsigned)opcode & 0xF));
    if (payload_len < 126) {
        out[1] = (uint8_t)payload_len;
        return 2;
    }
    if (payload_len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    return 10;
}

/*
 * XORs buf[0..len) with the 4-byte mask in place, where buf[0] is byte
 * `offset` of the frame's payload, so a payload may be unmasked in any number
 * of pieces.  Applying it twice restores the original.
 */
void ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
    unsigned k = (unsigned)(offset & 3);
    size_t i = 0;
    if (len >= 16) {
        /* Eight bytes at a time; i stays a multiple of 8, so the phase holds. */
        uint8_t m8[8];
        for (unsigned j = 0; j < 8; j++)
            m8[j] = mask[(k + j) & 3];
        uint64_t m;
        memcpy(&m, m8, sizeof m);
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            memcpy(&w, buf + i, sizeof w);
            w ^= m;
            memcpy(buf + i, &w, sizeof w);
        }
    }
    for (; i < len; i++)
        buf[i] ^= mask[(k + i) & 3];
}

/*
 * Feeds s[0..len) to an incremental UTF-8 check whose state `u` carries a
 * character split across calls (a text message's fragments, or the pieces
 * one fragment arrives in).  Returns false at the first byte that cannot be
 * part of well-formed UTF-8 (RFC 3629: no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF), so a bad message fails as soon as the
 * byte shows, not when the message ends.  The ranges of the byte after each
 * lead are those of Unicode's table 3-7, which excludes overlongs and
 * surrogates without decoding code points.
 */
bool ws_utf8_feed(ws_utf8 *u, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (u->need == 0) {
            if (c < 0x80)
                continue;
            if (c >= 0xC2 && c <= 0xDF)
                u->need = 1;
            else if (c >= 0xE0 && c <= 0xEF)
                u->need = 2;
            else if (c >= 0xF0 && c <= 0xF4)
                u->need = 3;
            else
                return false; /* a stray continuation byte, C0/C1 or F5..FF */
            u->lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
            u->hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
            continue;
        }
        if (c < u->lo || c > u->hi)
            return false;
        u->lo = 0x80;
        u->hi = 0xBF;
        u->need--;
    }
    return true;
}

/*
 * True if s[0..len) is well-formed UTF-8 (no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF, no truncated or stray continuation
 * bytes).  An empty string is valid.
 */
bool ws_utf8_valid(const uint8_t *s, size_t len)
{
    ws_utf8 u = {0};
    return ws_utf8_feed(&u, s, len) && u.need == 0;
}

/* True for close codes a peer may send (RFC 6455 section 7.4). */
static bool ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

/*
 * Checks a received close payload: either empty, or a 2-byte big-endian code
 * in 1000-1003, 1007-1011 or 3000-4999 followed by a UTF-8 reason.
 * Returns true and sets *code to the peer's code (1005 when empty) if valid;
 * returns false and sets *code to 1002, the code to close with, if not.
 * code may be NULL.
 */
bool ws_close_payload_valid(const uint8_t *payload, size_t len, uint16_t *code)
{
    uint16_t c = WS_CLOSE_NO_STATUS;
    bool ok = true;
    if (len == 1) {
        ok = false;
    } else if (len >= 2) {
        c = (uint16_t)((payload[0] << 8) | payload[1]);
        ok = ws_close_code_valid(c) && ws_utf8_valid(payload + 2, len - 2);
    }
    if (code)
        *code = ok ? c : (uint16_t)WS_CLOSE_PROTOCOL_ERROR;
    return ok;
}

/*
 * Builds a complete server close frame into out (at least WS_MAX_HEADER + 125
 * bytes).  code 0 sends no code and no reason (empty payload); otherwise the
 * payload is the code followed by reason (NULL means none), cut to 123 bytes
 * at a UTF-8 character boundary so the result stays valid UTF-8 for valid
 * input.  Returns the frame length (header + payload).
 */
size_t ws_close_frame(uint8_t *out, uint16_t code, const char *reason)
{
    if (code == 0)
        return ws_frame_header(out, true, WS_OP_CLOSE, 0);

    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > WS_MAX_CONTROL - 2) {
        rlen = WS_MAX_CONTROL - 2;
        /* Back off over continuation bytes so no character is split. */
        while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80)
            rlen--;
    }
    size_t h = ws_frame_header(out, true, WS_OP_CLOSE, 2 + rlen);
    out[h] = (uint8_t)(code >> 8);
    out[h + 1] = (uint8_t)code;
    if (rlen)
        memcpy(out + h + 2, reason, rlen);
    return h + 2 + rlen;
}

/* True for the 64 characters of the standard base64 alphabet. */
static bool ws_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/*
 * Computes Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) into out as a
 * NUL-terminated 28-character string.  The key must be exactly what the
 * client sent with surrounding whitespace already trimmed: 22 base64
 * characters and "==", decoding to 16 bytes.  Returns false (out untouched)
 * for anything else, including NULL.
 */
bool ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN])
{
    if (!client_key || strlen(client_key) != 24)
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!ws_base64_char(client_key[i]))
            return false;
    if (client_key[22] != '=' || client_key[23] != '=')
        return false;
    gsize raw_len = 0;
    guchar *raw = g_base64_decode(client_key, &raw_len);
    g_free(raw);
    if (raw_len != 16)
        return false;

    GChecksum *sha = g_checksum_new(G_CHECKSUM_SHA1);
    if (!sha)
        return false;
    g_checksum_update(sha, (const guchar *)client_key, 24);
    g_checksum_update(sha, (const guchar *)WS_GUID, sizeof WS_GUID - 1);
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    g_checksum_get_digest(sha, digest, &digest_len);
    g_checksum_free(sha);

    gchar *b64 = g_base64_encode(digest, digest_len);
    bool ok = b64 && strlen(b64) == WS_ACCEPT_LEN - 1;
    if (ok)
        memcpy(out, b64, WS_ACCEPT_LEN);
    g_free(b64);
    return ok;
}

/* ---- message reassembly ------------------------------------------------- */

/*
 * Prepares a reader.  max_message bounds a data message's total payload
 * (all fragments); larger messages end with a 1009 error.  0 allows only
 * empty data messages.  Control frames are always accepted up to 125 bytes.
 */
void ws_reader_init(ws_reader *r, size_t max_message)
{
    memset(r, 0, sizeof *r);
    r->max_message = max_message;
}

/* Releases the reader's buffer; the reader may be initialised again. */
void ws_reader_free(ws_reader *r)
{
    free(r->message);
    r->message = NULL;
    r->message_len = r->message_cap = 0;
}

/* Ends the stream with a protocol error event; returns `used` for chaining. */
static size_t ws_reader_fail(ws_reader *r, ws_event *ev, uint16_t code, const char *why,
                             size_t used)
{
    r->failed = true;
    ev->type = WS_EV_ERROR;
    ev->close_code = code;
    ev->reason = why;
    ev->data = NULL;
    ev->len = 0;
    return used;
}

/*
 * Names what ws_frame_parse rejected in head (which it found at fault), for
 * the log line that goes with a WS_EV_ERROR.
 */
static const char *ws_header_error(const uint8_t *head)
{
    unsigned op = head[0] & 0xF;
    if (head[0] & 0x70)
        return "RSV bits set without an extension";
    if (!ws_opcode_known(op))
        return "reserved opcode";
    if (ws_opcode_is_control(op) && !(head[0] & 0x80))
        return "fragmented control frame";
    if (ws_opcode_is_control(op))
        return "control frame longer than 125 bytes";
    return "64-bit length with its top bit set";
}

/*
 * Makes room for `need` bytes of message (need <= max_message).  Grows by
 * doubling, capped at max_message, so fragmented messages do not realloc per
 * fragment.  Returns false when memory runs out.
 */
static bool ws_reader_reserve(ws_reader *r, size_t need)
{
    if (need <= r->message_cap)
        return true;
    size_t cap = r->message_cap ? r->message_cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > r->max_message)
        cap = r->max_message;
    uint8_t *p = realloc(r->message, cap);
    if (!p)
        return false;
    r->message = p;
    r->message_cap = cap;
    return true;
}

/*
 * Checks a just-parsed header against the reader's state: masking, message
 * sequencing and the size limit.  Reserves buffer for data frames.  Returns 0
 * when the frame may proceed, or the close code to fail with (and *why).
 */
static uint16_t ws_reader_start_frame(ws_reader *r, const char **why)
{
    const ws_frame_header_info *f = &r->frame;
    if (!f->masked) {
        *why = "client frame not masked";
        return WS_CLOSE_PROTOCOL_ERROR;
    }
    if (ws_opcode_is_control(f->opcode))
        return 0;
    if (f->opcode == WS_OP_CONTINUATION && !r->in_message) {
        *why = "continuation frame without a message in progress";
        return WS_CLOSE_PROTOCOL_ERROR;
    }
    if (f->opcode != WS_OP_CONTINUATION && r->in_message) {
        *why = "new data frame while a fragmented message is in progress";
        return WS_CLOSE_PROTOCOL_ERROR;
    }
    /* message_len <= max_message always holds, so this cannot underflow. */
    if (f->payload_len > (uint64_t)(r->max_message - r->message_len)) {
        *why = "message larger than the limit";
        return WS_CLOSE_TOO_BIG;
    }
    if (f->opcode != WS_OP_CONTINUATION) {
        r->in_message = true;
        r->message_opcode = f->opcode;
        r->message_len = 0;
        memset(&r->utf8, 0, sizeof r->utf8);
    }
    if (!ws_reader_reserve(r, r->message_len + (size_t)f->payload_len)) {
        *why = "out of memory for message";
        return WS_CLOSE_INTERNAL;
    }
    return 0;
}

/*
 * Called when the current frame's payload is complete.  Fills *ev and returns
 * true if the frame completes an event (a control frame, the last fragment of
 * a message, or an error); returns false if reading should go on.
 */
static bool ws_reader_end_frame(ws_reader *r, ws_event *ev)
{
    const ws_frame_header_info *f = &r->frame;
    size_t plen = (size_t)f->payload_len;
    r->in_frame = false;

    switch (f->opcode) {
    case WS_OP_PING:
    case WS_OP_PONG:
        ev->type = f->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        ev->data = r->control;
        ev->len = plen;
        return true;
    case WS_OP_CLOSE: {
        uint16_t code;
        if (!ws_close_payload_valid(r->control, plen, &code)) {
            ws_reader_fail(r, ev, WS_CLOSE_PROTOCOL_ERROR, "invalid close payload", 0);
            return true;
        }
        r->failed = true; /* nothing is read after the peer's close */
        ev->type = WS_EV_CLOSE;
        ev->close_code = code;
        ev->data = r->control + (plen >= 2 ? 2 : 0);
        ev->len = plen >= 2 ? plen - 2 : 0;
        return true;
    }
    default:
        break;
    }

    if (!f->fin)
        return false; /* more fragments to come */
    ws_opcode op = r->message_opcode;
    size_t mlen = r->message_len;
    r->in_message = false;
    r->message_len = 0;
    /* Every byte was checked on arrival; only a character left open remains. */
    if (op == WS_OP_TEXT && r->utf8.need) {
        ws_reader_fail(r, ev, WS_CLOSE_INVALID_PAYLOAD, "text message ends inside a UTF-8 character", 0);
        return true;
    }
    ev->type = op == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
    /* Never NULL, even for an empty message with no buffer yet. */
    ev->data = r->message ? r->message : r->control;
    ev->len = mlen;
    return true;
}

/*
 * Feeds buf[0..len) received from the client.  Returns how many bytes were
 * consumed and sets *ev.  It stops right after the first complete event
 * (TEXT, BINARY, PING, PONG, CLOSE or ERROR), so callers loop until every byte
 * is consumed; WS_EV_NONE means all of buf was consumed with no event yet.
 * Event data stays valid until the next feed or free.
 *
 * After WS_EV_ERROR or WS_EV_CLOSE the reader is finished: every later call
 * consumes nothing (returns 0) and reports WS_EV_NONE, so a loop must stop on
 * those events.  Bytes after a close frame are left unconsumed.
 */
size_t ws_reader_feed(ws_reader *r, const uint8_t *buf, size_t len, ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = WS_EV_NONE;
    if (r->failed)
        return 0;

    /* Between messages, give back a buffer a large message left behind. */
    if (!r->in_message && r->message_cap > WS_READER_KEEP) {
        free(r->message);
        r->message = NULL;
        r->message_cap = 0;
    }

    size_t used = 0;
    for (;;) {
        if (!r->in_frame) {
            if (used == len)
                return used;
            /* Gather header bytes; a complete header never exceeds head[]. */
            size_t old = r->head_len;
            size_t take = sizeof r->head - old;
            if (take > len - used)
                take = len - used;
            memcpy(r->head + old, buf + used, take);
            uint16_t code = 0;
            ws_parse_result pr = ws_frame_parse(r->head, old + take, &r->frame, &code);
            if (pr == WS_PARSE_ERROR)
                return ws_reader_fail(r, ev, code, ws_header_error(r->head), used + take);
            if (pr == WS_PARSE_NEED_MORE) {
                /* Only possible when take ran out of input, not of head[]. */
                r->head_len = old + take;
                return used + take;
            }
            used += r->frame.header_len - old;
            r->head_len = 0;
            const char *why = NULL;
            uint16_t fail = ws_reader_start_frame(r, &why);
            if (fail)
                return ws_reader_fail(r, ev, fail, why, used);
            r->in_frame = true;
            r->frame_done = 0;
        }

        /* Copy and unmask as much of the payload as has arrived. */
        const ws_frame_header_info *f = &r->frame;
        uint64_t left = f->payload_len - r->frame_done;
        size_t n = len - used;
        if ((uint64_t)n > left)
            n = (size_t)left;
        if (n) {
            uint8_t *dst = ws_opcode_is_control(f->opcode)
                               ? r->control + r->frame_done
                               : r->message + r->message_len;
            memcpy(dst, buf + used, n);
            ws_unmask(dst, n, f->mask, r->frame_done);
            if (!ws_opcode_is_control(f->opcode))
                r->message_len += n;
            r->frame_done += n;
            used += n;
            /* Fail fast (RFC 6455 8.1): a bad byte ends the connection now,
             * not after the rest of a message that can never be valid. */
            if (!ws_opcode_is_control(f->opcode) && r->message_opcode == WS_OP_TEXT &&
                !ws_utf8_feed(&r->utf8, dst, n))
                return ws_reader_fail(r, ev, WS_CLOSE_INVALID_PAYLOAD,
                                      "text message is not valid UTF-8", used);
        }
        if (r->frame_done < f->payload_len)
            return used; /* all input consumed mid-payload */
        if (ws_reader_end_frame(r, ev))
            return used;
    }
}
