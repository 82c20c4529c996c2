/*
 * lfs.h: the Git LFS batch API and its signed transfer hrefs (lfs.c).
 */
#ifndef GG_LFS_H
#define GG_LFS_H

#include "http.h"

/* POST /{repo}.git/info/lfs/objects/batch */
enum MHD_Result lfs_batch(struct req *r);
/* PUT /_ggufd/lfs/{oid}[/part/{n}], POST /_ggufd/lfs/{oid}/complete: the
 * body streamed into the store (BODY_STREAM). */
int lfs_begin(struct req *r, enum MHD_Result *res);
enum MHD_Result lfs_end(struct req *r);

#endif
