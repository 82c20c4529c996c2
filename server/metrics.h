/*
 * metrics.h: GET /metrics, Prometheus text (metrics.c; counters in stats.h).
 */
#ifndef GG_METRICS_H
#define GG_METRICS_H

#include "http.h"

enum MHD_Result metrics_handle(struct req *r);

#endif
