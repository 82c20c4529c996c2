/*
 * resolve.h: file downloads, GET|HEAD /{repo}/resolve/{rev}/{path} and
 * /raw/ (resolve.c), from the store or streamed from an upstream fetch.
 */
#ifndef GG_RESOLVE_H
#define GG_RESOLVE_H

#include "http.h"

enum MHD_Result resolve_handle(struct req *r);

#endif
