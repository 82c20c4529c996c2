/*
 * upload.h: ggufd's plain upload route (upload.c).
 */
#ifndef GG_UPLOAD_H
#define GG_UPLOAD_H

#include "http.h"

/* PUT /api/ggufd/upload/{ns}/{name}/{path...}: the body streamed into the
 * store (BODY_STREAM), then checked, journaled and published. */
int upload_begin(struct req *r, enum MHD_Result *res);
enum MHD_Result upload_end(struct req *r);

#endif
