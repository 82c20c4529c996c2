/*
 * uploadq.h: the upload journal's routes (uploadq.c); the job machinery
 * itself is internal to the gateway (gwint.h).
 */
#ifndef GG_UPLOADQ_H
#define GG_UPLOADQ_H

#include "http.h"

/* GET|HEAD /api/ggufd/uploads: every job, oldest first */
enum MHD_Result uploadq_list(struct req *r);
/* GET|HEAD /api/ggufd/uploads/{id} */
enum MHD_Result uploadq_get(struct req *r);

#endif
