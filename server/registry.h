/*
 * registry.h: the GGUF models of a repo revision, as a registry a client
 * can pin (registry.c): GET /api/ggufd/registry/{repo}, `ggufd registry`
 * and `ggufd card`.
 *
 * A registry is read from the index in one view: every .gguf file of the
 * revision, with its size and sha256 (known for a mirrored file that is
 * not fetched yet: "present" says whether its bytes are here), and what
 * the store parsed from its GGUF header (architecture, quant, parameters,
 * context length).  A file whose header was never parsed gets its quant
 * from its name; a shard of a split set after the first (which carries no
 * general.* keys) gets the first shard's architecture, quant and context.
 *
 * Ownership: struct registry and everything in it belong to the caller
 * (registry_free); the text functions return malloc'ed strings.  No shared
 * state: thread safe on distinct registries.
 */
#ifndef GG_REGISTRY_H
#define GG_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gguf.h"
#include "gg_limits.h"
#include "http.h"
#include "index.h"
#include "store.h"

struct registry_file {
	char *path;
	uint64_t size;
	char sha256[GG_SHA256_HEX + 1];
	int present;  /* the blob is in the store */
	int has_gguf; /* the store parsed its header */
	struct gguf_summary g;
	char quant[24]; /* g.quant, else from the name; "" if neither */
	int quant_from_name;
	const char *kind; /* "model", "mmproj", "imatrix" or "draft" (static) */
	int split;        /* a shard of a split set: */
	unsigned shard_index, shard_count;
	size_t prefix_len;   /* bytes of path before "-NNNNN-of-NNNNN.gguf" */
	uint64_t set_size;   /* shard 1 (or a single file): bytes of the whole set */
	uint64_t set_params; /* its parameters, 0 if a shard's are unknown */
};

struct registry {
	enum repo_type type;
	char repo[GG_MAX_REPO_LEN + 1];
	char rev[GG_MAX_REV_LEN + 1];
	char commit[GG_SHA1_HEX + 1];
	struct registry_file *v; /* in path order */
	size_t n;
};

/*
 * Fills *out with the GGUF files of repo at rev (a branch, a tag, a commit
 * or a prefix of one, as store_resolve_rev takes it).  0, GG_ENOENT
 * (unknown repo or revision: *repo_known says which), GG_EDB.  *out is
 * freed with registry_free, also after an error.
 */
int registry_collect(struct store *st, enum repo_type type, const char *repo, const char *rev,
		     struct registry *out, int *repo_known);
void registry_free(struct registry *reg);

/*
 * The registry as JSON (see README "Registry"); base is the mirror's
 * absolute URL without a trailing "/" ("http://mirror:8080"), for each
 * file's download URL.  Caller frees with cJSON_Delete.
 */
cJSON *registry_json(const struct registry *reg, const char *base);

/* SHA256SUMS text: "<sha256>  <path>\n" per file, as sha256sum -c reads it.
 * Caller frees. */
char *registry_sha256sums(const struct registry *reg);

/* What `ggufd card` takes beyond the registry; NULL fields take the
 * GGUF's own values, or the defaults named in registry_card. */
struct registry_card_opts {
	const char *base;       /* mirror URL, as for registry_json */
	const char *license;    /* default: general.license, else "other" */
	const char *language;   /* comma-separated; default general.languages, else "en" */
	const char *base_model; /* default: general.base_model.0.repo_url on the Hub */
};

/*
 * A model card for the registry: YAML front matter that the gateway's card
 * policy accepts (license, language, tags; base_model where the GGUF names
 * one), a files table (the rows --card-files-table keeps), a hardware
 * table estimated from sizes and the GGUF's shape (st reads the headers of
 * the files present), and usage lines for curl, huggingface_hub,
 * llama.cpp, node-llama-cpp and Ollama.  Caller frees.
 */
char *registry_card(const struct registry *reg, struct store *st,
		    const struct registry_card_opts *o);

/* GET|HEAD /api/ggufd/registry/{repo}[?revision=REV][&format=json|sha256sums] */
enum MHD_Result registry_handle(struct req *r);

#endif
