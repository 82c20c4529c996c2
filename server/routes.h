/*
 * routes.h: the route table (routes.c), handed to server_start().
 */
#ifndef GG_ROUTES_H
#define GG_ROUTES_H

#include <stddef.h>

#include "http.h"

/* Indexed by route kind: routes_table[k].kind == k for every k. */
extern const struct route_entry routes_table[ROUTE_NKINDS];
extern const size_t routes_count;

#endif
