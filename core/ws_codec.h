/*
 * ws_codec.h — RFC 6455 framing, pure: no I/O, no sockets, no HTTP.
 *
 * The server side of a WebSocket: it parses client frames (which must be
 * masked), reassembles fragmented messages with control frames interleaved,
 * validates UTF-8 and close payloads, and writes unmasked server frames.
 * Everything here is usable and testable without the rest of vitals.
 */
#ifndef VITALS_WS_CODEC_H
#define VITALS_WS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA
} ws_opcode;

/* Close codes used by the server (RFC 6455 section 7.4.1). */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL_ERROR = 1002,
    WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005,
    WS_CLOSE_INVALID_PAYLOAD = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011
};

/* Largest server frame header: 2 + 8 bytes (servers never mask). */
#define WS_MAX_HEADER 10
/* Length of the Sec-WebSocket-Accept value plus its NUL. */
#define WS_ACCEPT_LEN 29

typedef struct ws_frame_header_info {
    bool fin;
    unsigned rsv;        /* the three RSV bits, as 0..7 */
    ws_opcode opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t payload_len;
    size_t header_len;   /* bytes of header including the mask key */
} ws_frame_header_info;

typedef enum ws_parse_result {
    WS_PARSE_OK = 0,
    WS_PARSE_NEED_MORE = 1,
    WS_PARSE_ERROR = -1
} ws_parse_result;

/*
 * Parses one frame header at buf.  WS_PARSE_OK fills *out; NEED_MORE means
 * the header is not complete yet; ERROR sets *close_code to the code to close
 * with (1002 for RSV bits, unknown opcodes, control frames that are
 * fragmented or longer than 125 bytes, a 64-bit length with its top bit set).
 */
ws_parse_result ws_frame_parse(const uint8_t *buf, size_t len, ws_frame_header_info *out,
                               uint16_t *close_code);

/* Writes an unmasked server frame header; returns its length (2, 4 or 10). */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], bool fin, ws_opcode opcode,
                       uint64_t payload_len);

/* XORs payload with the mask; `offset` is the payload position of buf[0]. */
void ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset);

/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool ws_utf8_valid(const uint8_t *s, size_t len);

/* An incremental UTF-8 check: zero it, feed the pieces in order; the text so
 * far is well-formed while ws_utf8_feed returns true, and complete when
 * `need` is 0 (no character left open). */
typedef struct ws_utf8 {
    uint8_t need;   /* continuation bytes still expected */
    uint8_t lo, hi; /* the range the next continuation byte must be in */
} ws_utf8;

/* Feeds s[0..len); false at the first byte well-formed UTF-8 cannot have. */
bool ws_utf8_feed(ws_utf8 *u, const uint8_t *s, size_t len);

/*
 * Checks a close frame payload: empty, or a 2-byte valid code (1000-1003,
 * 1007-1011, 3000-4999) followed by UTF-8.  Sets *code (1005 when empty).
 */
bool ws_close_payload_valid(const uint8_t *payload, size_t len, uint16_t *code);

/*
 * Builds a whole server close frame (header + code + reason, reason cut to
 * fit 125 bytes) into out, which must hold WS_MAX_HEADER + 125 bytes.
 * Returns its length.
 */
size_t ws_close_frame(uint8_t *out, uint16_t code, const char *reason);

/* Computes Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
 * Returns false if the key is not 24 base64 characters decoding to 16 bytes. */
bool ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN]);

/* ---- message reassembly ------------------------------------------------- */

typedef enum ws_event_type {
    WS_EV_NONE = 0,  /* consumed bytes, nothing complete yet */
    WS_EV_TEXT,      /* a complete, UTF-8-valid text message */
    WS_EV_BINARY,    /* a complete binary message */
    WS_EV_PING,      /* data = ping payload (answer with a pong carrying it) */
    WS_EV_PONG,
    WS_EV_CLOSE,     /* peer's close: close_code (1005 if none), data = reason */
    WS_EV_ERROR      /* protocol violation: close with close_code; stop feeding */
} ws_event_type;

typedef struct ws_event {
    ws_event_type type;
    const uint8_t *data; /* valid until the next ws_reader_feed/free */
    size_t len;
    uint16_t close_code;
    const char *reason;  /* static text for WS_EV_ERROR, for the log */
} ws_event;

typedef struct ws_reader {
    size_t max_message;   /* larger messages fail with 1009, not buffered */
    /* frame in progress */
    uint8_t head[14];
    size_t head_len;
    ws_frame_header_info frame;
    bool in_frame;
    uint64_t frame_done;
    /* fragmented data message in progress */
    bool in_message;
    ws_opcode message_opcode;
    uint8_t *message;
    size_t message_len, message_cap;
    ws_utf8 utf8;         /* a text message is checked as its bytes arrive */
    /* control frame payload (at most 125 bytes) */
    uint8_t control[125];
    bool failed;
} ws_reader;

void ws_reader_init(ws_reader *r, size_t max_message);
void ws_reader_free(ws_reader *r);

/*
 * Feeds received bytes.  Returns how many were consumed (<= len) and sets
 * *ev.  Stops as soon as one event is complete, so call it in a loop until
 * all bytes are consumed, handling each event.  Client frames must be masked.
 * After WS_EV_ERROR or WS_EV_CLOSE the reader accepts nothing more.
 */
size_t ws_reader_feed(ws_reader *r, const uint8_t *buf, size_t len, ws_event *ev);

#endif
