/*
 * api.h: the Hub's metadata routes (api.c), answered from the index, or
 * from upstream's answers cached in the index (apimirror.c).
 */
#ifndef GG_API_H
#define GG_API_H

#include "http.h"

/* GET|HEAD /api/{type}s/{repo}[/revision/{rev}] */
enum MHD_Result api_info(struct req *r);
/* GET|HEAD /api/{type}s/{repo}/tree/{rev}[/{path}] */
enum MHD_Result api_tree(struct req *r);
/* POST /api/{type}s/{repo}/paths-info/{rev} */
enum MHD_Result api_paths_info(struct req *r);
/* GET|HEAD /api/{type}s/{repo}/refs */
enum MHD_Result api_refs(struct req *r);
/* GET|HEAD /api/{type}s/{repo}/commits/{rev} */
enum MHD_Result api_commits(struct req *r);

#endif
