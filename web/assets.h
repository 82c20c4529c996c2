/*
 * assets.h: the dashboard's files, embedded in the binary at build time.
 *
 * web/embed.sh writes web/assets.c (in the build tree) from the .html,
 * .css and .js files of web/: each file's bytes, a gzip'd copy, a strong ETag (the
 * quoted sha256 of the bytes) and its content type.  server/ui.c serves
 * them from memory; nothing is read from disk at run time.
 */
#ifndef GG_WEB_ASSETS_H
#define GG_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;  /* "/" or "/ui/<name>" */
	const char *ctype; /* Content-Type */
	const char *etag;  /* "\"<sha256 of data>\"" */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* gzip -9n of data */
	size_t gzlen;
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
