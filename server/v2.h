/*
 * v2.h: the registry fronts of the inference clients (v2.c): one manifest
 * route for llama.cpp (up to b8390), node-llama-cpp and Ollama, and the
 * blobs route Ollama pulls from (shared/CLIENTS.md 4.4-4.6).
 */
#ifndef GG_V2_H
#define GG_V2_H

#include "http.h"

/* GET /v2/: 200 {} with Docker-Distribution-API-Version. */
enum MHD_Result v2_ping(struct req *r);
/* GET|HEAD /v2/{ns}/{name}/manifests/{tag} */
enum MHD_Result v2_manifest(struct req *r);
/* GET|HEAD /v2/{ns}/{name}/blobs/sha256:{hex} */
enum MHD_Result v2_blob(struct req *r);

#endif
