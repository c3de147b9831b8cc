/*
 * pipe_proto.h — the framing between the host and an isolated plugin's
 * helper process (docs/plugin-sdk.md, "Isolated plugins").  Pure: encodes
 * messages into bytes and decodes bytes into messages, with no I/O, so it
 * can be unit-tested and fuzzed alone.
 *
 * A frame is a 4-byte little-endian length N (1 .. VITALS_PIPE_MAX_FRAME),
 * then N bytes: one type byte and the body.  Integers are little-endian;
 * a string is a u32 length (0xffffffff for NULL), its bytes and a NUL;
 * a double is its IEEE-754 bits as a u64.  The decoder keeps at most one
 * frame, so a helper that sends garbage or an oversized frame costs the
 * host a bounded buffer and an error, never more memory.
 */
#ifndef VITALS_PIPE_PROTO_H
#define VITALS_PIPE_PROTO_H

#include <glib.h>
#include <stdint.h>
#include <vitals/plugin.h>

/* The largest frame (type byte + body) either side may send. */
#define VITALS_PIPE_MAX_FRAME (64 * 1024)
/* The longest string in a frame, so that a descriptor always fits. */
#define VITALS_PIPE_MAX_STRING 4096

typedef enum vitals_pipe_type {
    /* host -> helper */
    VITALS_PIPE_COLLECT = 'C', /* run collect() once; answered by DONE       */
    VITALS_PIPE_QUIT = 'Q',    /* run shutdown() and exit 0                   */
    /* helper -> host */
    VITALS_PIPE_HELLO = 'H',   /* init() succeeded; text = plugin version     */
    VITALS_PIPE_FAIL = 'F',    /* the plugin was refused or init() failed     */
    VITALS_PIPE_DESC = 'D',    /* metric_register(): handle + descriptor      */
    VITALS_PIPE_SET = 'S',     /* metric_set(handle, number)                  */
    VITALS_PIPE_ADD = 'A',     /* metric_add(handle, number)                  */
    VITALS_PIPE_OBSERVE = 'O', /* metric_observe(handle, number)              */
    VITALS_PIPE_TEXT = 'T',    /* metric_set_text(handle, text or NULL)       */
    VITALS_PIPE_CLEAR = 'X',   /* metric_clear(handle)                        */
    VITALS_PIPE_LOG = 'L',     /* log(level, text)                            */
    VITALS_PIPE_DONE = 'K'     /* collect() returned                          */
} vitals_pipe_type;

/* One message.  Which fields count depends on `type` (see above).  A
 * decoded message's strings point into the decoder and stay valid until
 * the next call to vitals_pipe_decoder_next(). */
typedef struct vitals_pipe_msg {
    vitals_pipe_type type;
    uint32_t handle;
    double number;
    uint32_t level;
    const char *text;
    vitals_metric_desc desc;
} vitals_pipe_msg;

/* Appends the frame of `msg` to `out`.  Strings longer than
 * VITALS_PIPE_MAX_STRING are cut (at a byte; the host re-validates UTF-8).
 * Returns FALSE, appending nothing, for an unknown type. */
gboolean vitals_pipe_encode(GByteArray *out, const vitals_pipe_msg *msg);

typedef struct vitals_pipe_decoder {
    unsigned char buf[4 + VITALS_PIPE_MAX_FRAME];
    size_t len;      /* bytes in buf */
    size_t consumed; /* bytes of buf already decoded (dropped on the next call) */
} vitals_pipe_decoder;

void vitals_pipe_decoder_init(vitals_pipe_decoder *d);

/* Where the next bytes read from the pipe go, and how many fit (never 0
 * while the decoder is usable).  Call vitals_pipe_decoder_wrote() after. */
unsigned char *vitals_pipe_decoder_space(vitals_pipe_decoder *d, size_t *room);
void vitals_pipe_decoder_wrote(vitals_pipe_decoder *d, size_t n);

/* Copies `len` bytes in (tests, fuzzing); FALSE when they do not fit. */
gboolean vitals_pipe_decoder_feed(vitals_pipe_decoder *d, const void *data, size_t len);

/* Decodes the next complete frame into *msg: 1 = a message, 0 = more bytes
 * needed, -1 = a protocol error (oversized or empty frame, unknown type,
 * truncated or malformed body), with *why set to a static phrase.  After
 * -1 the stream cannot be trusted: drop the peer. */
int vitals_pipe_decoder_next(vitals_pipe_decoder *d, vitals_pipe_msg *msg, const char **why);

#endif
