/*
 * lfs.h: the Git LFS batch API and its signed transfer hrefs (lfs.c).
 */
#ifndef GG_LFS_H
#define GG_LFS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"

/* Objects in one batch call. */
#define LFS_MAX_BATCH_OBJECTS 1000

/* One object of a batch call; oid borrowed from the parsed body ("" when
 * not a string).  ok: oid is 64 lowercase hex and size an integer below
 * 2^53 (size is 0 when it is not one). */
struct lfs_batch_object {
	const char *oid;
	uint64_t size;
	int ok;
};

struct lfs_batch {
	cJSON *doc;    /* the parsed body, which the oids point into */
	int multipart; /* "transfers" names "multipart" */
	size_t n;
	struct lfs_batch_object *objs; /* n of them */
};

/*
 *   {"operation":"upload","transfers":["basic","multipart"]?,
 *    "objects":[{"oid","size"}],"hash_algo":"sha256"|"sha_256"?}
 *
 * Parses a batch request without a server.  GG_OK with every object in
 * objs, valid or not (the answer has an error for each bad one); GG_EINVAL
 * when the body is not of that shape (no operation string, no objects
 * array or more than LFS_MAX_BATCH_OBJECTS, another hash_algo); GG_EFORMAT
 * when the operation is not "upload".  Free with lfs_batch_free, whatever
 * the return (a zeroed one too).
 */
int lfs_batch_parse(const char *body, size_t len, struct lfs_batch *out);
void lfs_batch_free(struct lfs_batch *b);

/*
 *   {"oid":"<oid>","parts":[{"partNumber":1,"etag":"..."},...]}
 *
 * Parses the body of a multipart upload's completion (POST
 * /_ggufd/lfs/{oid}/complete) without a server: GG_OK when it is a JSON
 * object whose "oid" is this oid and whose "parts" is an array, else
 * GG_EINVAL.  The parts are not looked into: what guarantees the object
 * is the sha256 of the parts the server assembles.
 */
int lfs_complete_parse(const char *body, size_t len, const char *oid);

/* POST /{repo}.git/info/lfs/objects/batch */
enum MHD_Result lfs_batch(struct req *r);
/* PUT /_ggufd/lfs/{oid}[/part/{n}], POST /_ggufd/lfs/{oid}/complete: the
 * body streamed into the store (BODY_STREAM). */
int lfs_begin(struct req *r, enum MHD_Result *res);
enum MHD_Result lfs_end(struct req *r);

#endif
