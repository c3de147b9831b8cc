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

#endif
