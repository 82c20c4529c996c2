/*
 * disk.h: the store's disk for operators (disk.c).
 */
#ifndef GG_DISK_H
#define GG_DISK_H

#include "http.h"

/* GET|HEAD /api/ggufd/disk: usage, quota, next and recent evictions */
enum MHD_Result disk_usage(struct req *r);
/* GET|HEAD|POST /api/ggufd/pins: the pinned blobs, or pin a revision's files */
enum MHD_Result disk_pins(struct req *r);

#endif
