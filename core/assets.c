/*
 * assets.c — looking up the dashboard embedded in the binary.
 *
 * The table itself is generated at build time by cmake/embed_assets.cmake
 * (${CMAKE_BINARY_DIR}/generated/vitals_assets_data.c) from web/ and the
 * charting library that `npm ci` put in the build tree. This file only
 * searches it, and names content types by extension for the table's
 * generator (which follows the same rules) and for --web-root.
 */
#include "assets.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>

#include <string.h>

/* Defined by the generated vitals_assets_data.c. */
extern const vitals_asset vitals_asset_table[];
extern const size_t vitals_asset_count;

/* Length of the path part of `path`: up to a '?' or '#', if any. */
static size_t path_length(const char *path)
{
    return strcspn(path, "?#");
}

/*
 * The asset served at `path`, or NULL. "/" (with or without a query string)
 * means "/index.html"; the query string and fragment are ignored.
 */
const vitals_asset *vitals_asset_find(const char *path)
{
    if (path == NULL || path[0] != '/')
        return NULL;
    size_t len = path_length(path);
    if (len == 1) {
        path = "/index.html";
        len = strlen(path);
    }
    for (size_t i = 0; i < vitals_asset_count; i++) {
        const vitals_asset *a = &vitals_asset_table[i];
        if (strlen(a->path) == len && memcmp(a->path, path, len) == 0)
            return a;
    }
    return NULL;
}

/* ASCII-only, locale-free case-insensitive equality. */
static int ext_equals(const char *ext, size_t len, const char *want)
{
    if (strlen(want) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = ext[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return 0;
    }
    return 1;
}

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".htm", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".json", "application/json" },
    { ".map", "application/json" },
    { ".ico", "image/x-icon" },
};

/*
 * Content type for a file name or URL path by its extension (case-insensitive,
 * query string ignored); "application/octet-stream" when unknown. Text types
 * carry "; charset=utf-8". Never NULL.
 */
const char *vitals_asset_content_type(const char *path)
{
    static const char fallback[] = "application/octet-stream";
    if (path == NULL)
        return fallback;
    size_t len = path_length(path);
    const char *dot = NULL;
    for (size_t i = 0; i < len; i++) {
        if (path[i] == '/')
            dot = NULL;
        else if (path[i] == '.')
            dot = path + i;
    }
    if (dot == NULL)
        return fallback;
    size_t ext_len = (size_t)(path + len - dot);
    for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++) {
        if (ext_equals(dot, ext_len, content_types[i].ext))
            return content_types[i].type;
    }
    return fallback;
}

/*
 * The entity tag of an embedded file: 64-bit FNV-1a of its bytes, quoted.
 * Computed for the whole table on first use (a few hundred KiB, once), so a
 * browser can revalidate the page's files with If-None-Match and keep its
 * compiled scripts, and a new build's files never match an old tag.
 */
#define ETAG_SIZE 19 /* '"' + 16 hex digits + '"' + NUL */

static char (*etags)[ETAG_SIZE];

static void compute_etags(void)
{
    char (*table)[ETAG_SIZE] = g_malloc(sizeof *table * (vitals_asset_count ? vitals_asset_count : 1));
    for (size_t i = 0; i < vitals_asset_count; i++) {
        const vitals_asset *a = &vitals_asset_table[i];
        uint64_t h = 0xcbf29ce484222325u;
        for (size_t k = 0; k < a->size; k++)
            h = (h ^ a->data[k]) * 0x100000001b3u;
        snprintf(table[i], ETAG_SIZE, "\"%016" PRIx64 "\"", h);
    }
    etags = table;
}

const char *vitals_asset_etag(const vitals_asset *asset)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        compute_etags();
        g_once_init_leave(&once, 1);
    }
    return etags[asset - vitals_asset_table];
}

int vitals_asset_etag_matches(const vitals_asset *asset, const char *if_none_match)
{
    if (if_none_match == NULL)
        return 0;
    /* A list of tags, maybe weak (W/"…"), or "*"; ours are unique enough
     * that finding the quoted tag anywhere in the list is a match. */
    if (strcmp(if_none_match, "*") == 0)
        return 1;
    return strstr(if_none_match, vitals_asset_etag(asset)) != NULL;
}
