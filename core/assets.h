/*
 * assets.h — the dashboard, embedded in the binary at build time.
 *
 * web/ is turned into a C table by cmake/embed_assets.cmake (after `npm ci`
 * has brought the charting library into the build tree), so the installed
 * host serves its dashboard with no file on disk and nothing from the net.
 */
#ifndef VITALS_ASSETS_H
#define VITALS_ASSETS_H

#include <stddef.h>

typedef struct vitals_asset {
    const char *path;           /* URL path, e.g. "/index.html", "/vendor/uPlot.iife.min.js" */
    const char *content_type;   /* e.g. "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t size;
} vitals_asset;

/* The asset served at `path` ("/" means "/index.html"), or NULL. */
const vitals_asset *vitals_asset_find(const char *path);

/* Content type for a file name by its extension (for --web-root). */
const char *vitals_asset_content_type(const char *path);

/* The file's entity tag ("\"<16 hex digits>\""), the same for the life of the binary. */
const char *vitals_asset_etag(const vitals_asset *asset);

/* Whether an If-None-Match header value names the file's current tag. */
int vitals_asset_etag_matches(const vitals_asset *asset, const char *if_none_match);

#endif
