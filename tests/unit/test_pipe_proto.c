/*
 * test_pipe_proto.c — unit tests of core/pipe_proto.c: every message
 * survives a round trip (also fed one byte at a time), and each kind of
 * garbage a broken helper could send is an error, never a crash or an
 * unbounded buffer.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "pipe_proto.h"
#include "run_suite.h"

static vitals_pipe_decoder dec;

/* Encodes `in`, decodes it back into *out (strings live in `dec`). */
static void round_trip(const vitals_pipe_msg *in, vitals_pipe_msg *out, gboolean bytewise)
{
    GByteArray *bytes = g_byte_array_new();
    ck_assert(vitals_pipe_encode(bytes, in));
    vitals_pipe_decoder_init(&dec);
    const char *why = NULL;
    if (bytewise) {
        for (guint i = 0; i + 1 < bytes->len; i++) {
            ck_assert(vitals_pipe_decoder_feed(&dec, bytes->data + i, 1));
            ck_assert_int_eq(vitals_pipe_decoder_next(&dec, out, &why), 0);
        }
        ck_assert(vitals_pipe_decoder_feed(&dec, bytes->data + bytes->len - 1, 1));
    } else {
        ck_assert(vitals_pipe_decoder_feed(&dec, bytes->data, bytes->len));
    }
    ck_assert_int_eq(vitals_pipe_decoder_next(&dec, out, &why), 1);
    ck_assert_int_eq(vitals_pipe_decoder_next(&dec, out + 1, &why), 0); /* nothing more */
    g_byte_array_free(bytes, TRUE);
}

START_TEST(test_descriptor_round_trip)
{
    vitals_pipe_msg in = {.type = VITALS_PIPE_DESC, .handle = 7,
        .desc = {.id = "crash.value", .title = "Value", .unit = "count", .kind = VITALS_COUNTER,
                 .description = "line one\nline two", .chart = "crash", .chart_title = NULL,
                 .style = VITALS_AREA, .axis = VITALS_AXIS_RIGHT, .has_min = true, .min = -1.5,
                 .has_max = false, .max = 0, .precision = 3, .priority = -2, .card = true,
                 .has_warn = true, .warn = 80, .has_crit = true, .crit = 95,
                 .lower_is_worse = true, .family = "crash.values", .labels = "k=v",
                 .stream_every = 7}};
    vitals_pipe_msg out[2];
    for (int bytewise = 0; bytewise <= 1; bytewise++) {
        round_trip(&in, out, bytewise);
        const vitals_metric_desc *d = &out[0].desc;
        ck_assert_int_eq(out[0].type, VITALS_PIPE_DESC);
        ck_assert_uint_eq(out[0].handle, 7);
        ck_assert_str_eq(d->id, "crash.value");
        ck_assert_str_eq(d->description, "line one\nline two");
        ck_assert_ptr_null(d->chart_title);
        ck_assert_int_eq(d->kind, VITALS_COUNTER);
        ck_assert_int_eq(d->style, VITALS_AREA);
        ck_assert_int_eq(d->axis, VITALS_AXIS_RIGHT);
        ck_assert(d->has_min && !d->has_max && d->card && d->has_warn && d->has_crit && d->lower_is_worse);
        ck_assert_double_eq(d->min, -1.5);
        ck_assert_double_eq(d->crit, 95);
        ck_assert_int_eq(d->precision, 3);
        ck_assert_int_eq(d->priority, -2);
        ck_assert_str_eq(d->family, "crash.values");
        ck_assert_str_eq(d->labels, "k=v");
        ck_assert_int_eq(d->stream_every, 7);
    }
}
END_TEST

START_TEST(test_values_logs_and_control_round_trip)
{
    vitals_pipe_msg out[2];
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_SET, .handle = 3, .number = -0.25}, out, FALSE);
    ck_assert_uint_eq(out[0].handle, 3);
    ck_assert_double_eq(out[0].number, -0.25);
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_OBSERVE, .handle = 0, .number = NAN}, out, TRUE);
    ck_assert(isnan(out[0].number));
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_TEXT, .handle = 1, .text = "héllo"}, out, FALSE);
    ck_assert_str_eq(out[0].text, "héllo");
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_TEXT, .handle = 1, .text = NULL}, out, FALSE);
    ck_assert_ptr_null(out[0].text);
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_LOG, .level = 1, .text = "disk full"}, out, FALSE);
    ck_assert_uint_eq(out[0].level, 1);
    ck_assert_str_eq(out[0].text, "disk full");
    const vitals_pipe_type bare[] = {VITALS_PIPE_COLLECT, VITALS_PIPE_QUIT, VITALS_PIPE_DONE};
    for (size_t i = 0; i < G_N_ELEMENTS(bare); i++) {
        round_trip(&(vitals_pipe_msg){.type = bare[i]}, out, FALSE);
        ck_assert_int_eq(out[0].type, bare[i]);
    }
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_FAIL, .text = "init failed"}, out, FALSE);
    ck_assert_str_eq(out[0].text, "init failed");
}
END_TEST

START_TEST(test_several_frames_in_one_read)
{
    GByteArray *bytes = g_byte_array_new();
    for (uint32_t i = 0; i < 100; i++)
        vitals_pipe_encode(bytes, &(vitals_pipe_msg){.type = VITALS_PIPE_ADD, .handle = i, .number = i});
    vitals_pipe_encode(bytes, &(vitals_pipe_msg){.type = VITALS_PIPE_DONE});
    vitals_pipe_decoder_init(&dec);
    ck_assert(vitals_pipe_decoder_feed(&dec, bytes->data, bytes->len));
    vitals_pipe_msg m;
    const char *why = NULL;
    for (uint32_t i = 0; i < 100; i++) {
        ck_assert_int_eq(vitals_pipe_decoder_next(&dec, &m, &why), 1);
        ck_assert_uint_eq(m.handle, i);
    }
    ck_assert_int_eq(vitals_pipe_decoder_next(&dec, &m, &why), 1);
    ck_assert_int_eq(m.type, VITALS_PIPE_DONE);
    g_byte_array_free(bytes, TRUE);
}
END_TEST

/* Feeds raw bytes and expects a protocol error mentioning `want`. */
static void expect_error(const void *data, size_t len, const char *want)
{
    vitals_pipe_decoder_init(&dec);
    ck_assert(vitals_pipe_decoder_feed(&dec, data, len));
    vitals_pipe_msg m;
    const char *why = NULL;
    ck_assert_int_eq(vitals_pipe_decoder_next(&dec, &m, &why), -1);
    ck_assert_msg(why && strstr(why, want), "error '%s' does not mention '%s'", why, want);
}

START_TEST(test_garbage_is_refused)
{
    /* An oversized frame is refused from its header alone: nothing is buffered. */
    expect_error("\xff\xff\xff\x7f" "S", 5, "larger than 64 KiB");
    expect_error("\x00\x00\x00\x00", 4, "empty frame");
    expect_error("\x01\x00\x00\x00" "Z", 5, "unknown message type");
    /* SET needs 12 bytes of body. */
    expect_error("\x03\x00\x00\x00" "S\x01\x00", 7, "truncated");
    /* A string whose length runs past the frame. */
    expect_error("\x08\x00\x00\x00" "F\xff\x00\x00\x00" "abc", 12, "truncated");
    /* A string without its NUL. */
    expect_error("\x09\x00\x00\x00" "F\x03\x00\x00\x00" "abcd", 13, "malformed");
    /* Bytes after a complete message. */
    expect_error("\x02\x00\x00\x00" "Kx", 6, "left over");
}
END_TEST

START_TEST(test_long_strings_are_cut)
{
    char *big = g_malloc(VITALS_PIPE_MAX_STRING * 2 + 1);
    memset(big, 'a', VITALS_PIPE_MAX_STRING * 2);
    big[VITALS_PIPE_MAX_STRING * 2] = '\0';
    vitals_pipe_msg out[2];
    round_trip(&(vitals_pipe_msg){.type = VITALS_PIPE_LOG, .text = big}, out, FALSE);
    ck_assert_uint_eq(strlen(out[0].text), VITALS_PIPE_MAX_STRING);
    g_free(big);
}
END_TEST

START_TEST(test_buffer_is_bounded)
{
    vitals_pipe_decoder_init(&dec);
    size_t room = 0;
    vitals_pipe_decoder_space(&dec, &room);
    ck_assert_uint_eq(room, 4 + VITALS_PIPE_MAX_FRAME);
    static unsigned char junk[4 + VITALS_PIPE_MAX_FRAME + 1];
    ck_assert(!vitals_pipe_decoder_feed(&dec, junk, sizeof junk));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipe_proto");
    TCase *tc = tcase_create("pipe_proto");
    tcase_add_test(tc, test_descriptor_round_trip);
    tcase_add_test(tc, test_values_logs_and_control_round_trip);
    tcase_add_test(tc, test_several_frames_in_one_read);
    tcase_add_test(tc, test_garbage_is_refused);
    tcase_add_test(tc, test_long_strings_are_cut);
    tcase_add_test(tc, test_buffer_is_bounded);
    suite_add_tcase(s, tc);
    return vitals_run_suite(s);
}
