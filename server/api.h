/*
 * api.h: the Hub's metadata routes (api.c), answered from the index, or
 * from upstream's answers cached in the index (apimirror.c).
 */
#ifndef GG_API_H
#define GG_API_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "http.h"

/* GET|HEAD /api/{type}s/{repo}[/revision/{rev}] */
enum MHD_Result api_info(struct req *r);
/* GET|HEAD /api/{type}s/{repo}/tree/{rev}[/{path}] */
enum MHD_Result api_tree(struct req *r);
/* POST /api/{type}s/{repo}/paths-info/{rev} */
enum MHD_Result api_paths_info(struct req *r);
/*
 * Its body, parsed without a server: JSON (json 1) {"paths":[str],
 * "expand"?: true}, or a form (paths=a&paths=b&expand=true; "paths[]"
 * too).  *paths is a new array of the first GG_MAX_PATHS_INFO paths, as
 * given (the handler skips those naming nothing); *expand 0 or 1.  GG_OK;
 * GG_EINVAL (JSON that is not {"paths": [...]}) or GG_EFORMAT (a path that
 * is not a string), with *paths NULL.  The caller frees *paths with
 * cJSON_Delete.
 */
int api_paths_info_parse(const char *body, size_t len, int json, cJSON **paths, int *expand,
			 char *why, size_t whysz);
/* GET|HEAD /api/{type}s/{repo}/refs */
enum MHD_Result api_refs(struct req *r);
/* GET|HEAD /api/{type}s/{repo}/commits/{rev} */
enum MHD_Result api_commits(struct req *r);

#endif
