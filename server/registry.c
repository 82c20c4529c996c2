/*
 * registry.c: a repo revision's GGUF models as a registry (JSON,
 * SHA256SUMS) and as a model card, for the route and the CLI alike.
 *
 *   GET /api/ggufd/registry/ruv/ruvltra?revision=v1.0
 *   {"repo":"ruv/ruvltra","type":"model","revision":"v1.0","commit":"<40 hex>",
 *    "files":[{"file":"ruvltra-0.5b-q4_k_m.gguf","size":N,"sha256":"<64 hex>",
 *              "present":true,"kind":"model","quant":"Q4_K_M","quant_from":"header",
 *              "architecture":"qwen2","name":"RuvLTRA","parameters":494032768,
 *              "context_length":32768,"shard":null,
 *              "url":"http://mirror:8080/ruv/ruvltra/resolve/v1.0/ruvltra-0.5b-q4_k_m.gguf"}]}
 *   ?format=sha256sums
 *   <64 hex>  ruvltra-0.5b-q4_k_m.gguf
 *
 * Everything comes from the index, in one read view: a CI job can diff it
 * against a client's hard-coded table, and check downloads with
 * `sha256sum -c`.  Download URLs name the revision as asked (a client
 * table names "main"); "commit" pins it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app.h"
#include "huberr.h"
#include "log.h"
#include "registry.h"
#include "route.h"
#include "upstream.h"
#include "util.h"

/* --- collecting -------------------------------------------------------------- */

static int
ends_gguf(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && strcasecmp(path + n - 5, ".gguf") == 0;
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* What a .gguf is, by llama.cpp's rules for the files it passes over
 * when it picks a model (CLIENTS.md 1.2). */
static const char *
file_kind(const char *path)
{
	static const char *const drafts[] = { "mtp-", "eagle3-", "dflash-", "dspark-" };
	const char *b = base_name(path);

	if (strcasestr(b, "mmproj") != NULL)
		return "mmproj";
	if (strcasestr(b, "imatrix") != NULL)
		return "imatrix";
	for (size_t i = 0; i < sizeof(drafts) / sizeof(drafts[0]); i++)
		if (strncasecmp(b, drafts[i], strlen(drafts[i])) == 0)
			return "draft";
	return "model";
}

static int
name_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_';
}

/*
 * The quant a file name states: the longest known quant name (gguf.h)
 * standing alone in the base name ("x-Q4_K_M.gguf", "x.q8_0.gguf"), in
 * its canonical spelling.  "" if none.
 */
static void
quant_from_name(const char *path, char *out, size_t n)
{
	const char *b = base_name(path);
	size_t best = 0;

	out[0] = '\0';
	for (int32_t ft = 0; ft < 256; ft++) {
		const char *q = gguf_ftype_name(ft);
		size_t ql;
		if (q == NULL || (ql = strlen(q)) <= best)
			continue;
		for (const char *c = b; (c = strcasestr(c, q)) != NULL; c++) {
			if ((c == b || !name_char(c[-1])) && !name_char(c[ql])) {
				best = ql;
				snprintf(out, n, "%s", q);
				break;
			}
		}
	}
}

struct collect_ctx {
	struct store_view *v;
	struct registry *reg;
	size_t cap;
};

static int
collect_cb(void *ctx, const char *path, const struct index_file *f)
{
	struct collect_ctx *c = ctx;
	struct registry_file *e;
	struct index_blob b;

	if (!ends_gguf(path))
		return 0;
	if (c->reg->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->reg->v = xrealloc(c->reg->v, c->cap * sizeof(*c->reg->v));
	}
	e = &c->reg->v[c->reg->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	e->size = f->size;
	memcpy(e->sha256, f->sha256, sizeof(e->sha256));
	if (store_view_blob(c->v, f->sha256, &b) == GG_OK && b.has_gguf) {
		e->has_gguf = 1;
		e->g = b.gguf;
	}
	e->kind = file_kind(path);
	e->split = gguf_split_name(path, &e->shard_index, &e->shard_count, &e->prefix_len) == GG_OK;
	return 0;
}

/* The first shard of e's set, or NULL. */
static struct registry_file *
first_shard(struct registry *reg, const struct registry_file *e)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct registry_file *o = &reg->v[i];
		if (o->split && o->shard_index == 1 && o->shard_count == e->shard_count &&
		    o->prefix_len == e->prefix_len && strncmp(o->path, e->path, e->prefix_len) == 0)
			return o;
	}
	return NULL;
}

/* Settles what the index alone does not say: quants, split sets. */
static void
settle(struct store *st, struct registry *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct registry_file *e = &reg->v[i];
		e->present = store_blob_exists(st, e->sha256);
		if (e->has_gguf && e->g.quant[0] != '\0') {
			snprintf(e->quant, sizeof(e->quant), "%s", e->g.quant);
		} else {
			quant_from_name(e->path, e->quant, sizeof(e->quant));
			e->quant_from_name = e->quant[0] != '\0';
		}
		e->set_size = e->size;
		e->set_params = e->has_gguf ? e->g.param_count : 0;
	}
	for (size_t i = 0; i < reg->n; i++) {
		struct registry_file *e = &reg->v[i], *f;
		if (!e->split || (f = first_shard(reg, e)) == NULL || f == e)
			continue;
		/* Shards after the first carry tensors, not general.* keys. */
		if (f->has_gguf && (!e->has_gguf || e->g.arch[0] == '\0')) {
			snprintf(e->g.arch, sizeof(e->g.arch), "%s", f->g.arch);
			snprintf(e->g.name, sizeof(e->g.name), "%s", f->g.name);
			e->g.context_length = f->g.context_length;
		}
		if (e->quant_from_name || e->quant[0] == '\0') {
			snprintf(e->quant, sizeof(e->quant), "%s", f->quant);
			e->quant_from_name = f->quant_from_name;
		}
		f->set_size += e->size;
		if (f->set_params != 0)
			f->set_params = e->has_gguf ? f->set_params + e->g.param_count : 0;
	}
	/* A set with a missing shard has no known total. */
	for (size_t i = 0; i < reg->n; i++) {
		struct registry_file *e = &reg->v[i];
		unsigned seen = 0;
		if (!e->split || e->shard_index != 1)
			continue;
		for (size_t j = 0; j < reg->n; j++)
			if (reg->v[j].split && first_shard(reg, &reg->v[j]) == e)
				seen++;
		if (seen != e->shard_count)
			e->set_params = 0;
	}
}

int
registry_collect(struct store *st, enum repo_type type, const char *repo, const char *rev,
		 struct registry *out, int *repo_known)
{
	struct store_view v;
	struct collect_ctx c;
	int rc;

	memset(out, 0, sizeof(*out));
	*repo_known = 0;
	out->type = type;
	if (snprintf_checked(out->repo, sizeof(out->repo), "%s", repo) != GG_OK ||
	    snprintf_checked(out->rev, sizeof(out->rev), "%s", rev) != GG_OK)
		return GG_EINVAL;
	if ((rc = store_view_begin(st, &v)) != GG_OK) {
		store_view_end(&v);
		return rc;
	}
	rc = store_resolve_rev(&v, type, repo, rev, out->commit, repo_known, NULL);
	if (rc == GG_OK) {
		c.v = &v;
		c.reg = out;
		c.cap = 0;
		rc = store_view_files(&v, type, repo, out->commit, NULL, collect_cb, &c);
	}
	store_view_end(&v);
	if (rc == GG_OK)
		settle(st, out);
	return rc;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n; i++)
		free(reg->v[i].path);
	free(reg->v);
	reg->v = NULL;
	reg->n = 0;
}

/* --- JSON and SHA256SUMS ------------------------------------------------------ */

/* base/[datasets/]repo/resolve/REV/PATH, rev and path percent-encoded as
 * huggingface_hub does (rev whole, path keeping "/").  Caller frees. */
static char *
file_url(const struct registry *reg, const char *base, const char *path)
{
	char *qrev = upstream_quote(reg->rev, 0), *qpath = upstream_quote(path, 1);
	char *u = xasprintf("%s/%s%s/resolve/%s/%s", base, route_type_prefix(reg->type), reg->repo,
			    qrev, qpath);
	free(qrev);
	free(qpath);
	return u;
}

static void
add_u64_or_null(cJSON *o, const char *k, uint64_t v)
{
	if (v != 0)
		cJSON_AddNumberToObject(o, k, (double)v);
	else
		cJSON_AddNullToObject(o, k);
}

static void
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *
registry_json(const struct registry *reg, const char *base)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(o, "repo", reg->repo);
	cJSON_AddStringToObject(o, "type", index_type_name(reg->type));
	cJSON_AddStringToObject(o, "revision", reg->rev);
	cJSON_AddStringToObject(o, "commit", reg->commit);
	arr = cJSON_AddArrayToObject(o, "files");
	for (size_t i = 0; i < reg->n; i++) {
		const struct registry_file *e = &reg->v[i];
		cJSON *f = cJSON_CreateObject();
		char *url = file_url(reg, base, e->path);

		cJSON_AddStringToObject(f, "file", e->path);
		cJSON_AddNumberToObject(f, "size", (double)e->size);
		cJSON_AddStringToObject(f, "sha256", e->sha256);
		cJSON_AddBoolToObject(f, "present", e->present);
		cJSON_AddStringToObject(f, "kind", e->kind);
		add_str_or_null(f, "quant", e->quant);
		add_str_or_null(f, "quant_from",
				e->quant[0] == '\0'  ? NULL
				: e->quant_from_name ? "name"
						     : "header");
		add_str_or_null(f, "architecture", e->g.arch);
		add_str_or_null(f, "name", e->g.name);
		add_u64_or_null(f, "parameters", e->has_gguf ? e->g.param_count : 0);
		add_u64_or_null(f, "context_length", e->g.context_length);
		if (e->split) {
			cJSON *s = cJSON_AddObjectToObject(f, "shard");
			char *set = xstrndup(e->path, e->prefix_len);
			cJSON_AddNumberToObject(s, "index", e->shard_index);
			cJSON_AddNumberToObject(s, "count", e->shard_count);
			cJSON_AddStringToObject(s, "set", set);
			if (e->shard_index == 1) {
				cJSON_AddNumberToObject(s, "set_size", (double)e->set_size);
				add_u64_or_null(s, "set_parameters", e->set_params);
			}
			free(set);
		} else {
			cJSON_AddNullToObject(f, "shard");
		}
		cJSON_AddStringToObject(f, "url", url);
		free(url);
		cJSON_AddItemToArray(arr, f);
	}
	return o;
}

char *
registry_sha256sums(const struct registry *reg)
{
	struct buf b;
	size_t len;

	buf_init(&b, GG_MAX_UPSTREAM_JSON);
	for (size_t i = 0; i < reg->n; i++)
		buf_printf(&b, "%s  %s\n", reg->v[i].sha256, reg->v[i].path);
	if (b.len == 0)
		return xstrdup("");
	return buf_steal(&b, &len);
}

/* --- the model card ------------------------------------------------------------ */

static void
human_bytes(uint64_t v, char *out, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%llu B", (unsigned long long)v);
	else
		snprintf(out, n, "%.2f %s", d, unit[u]);
}

static void
human_count(uint64_t v, char *out, size_t n)
{
	if (v == 0)
		snprintf(out, n, "?");
	else if (v < 1000)
		snprintf(out, n, "%llu", (unsigned long long)v);
	else if (v < 1000000)
		snprintf(out, n, "%.2f K", (double)v / 1e3);
	else if (v < 1000000000)
		snprintf(out, n, "%.2f M", (double)v / 1e6);
	else
		snprintf(out, n, "%.2f B", (double)v / 1e9);
}

/* A YAML double-quoted scalar of s (control bytes are already '?' in
 * everything that comes from a GGUF header). */
static void
yaml_str(struct buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_puts(b, "?");
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

/* A YAML list item per line (or comma) of s. */
static void
yaml_list(struct buf *b, const char *s, const char *seps)
{
	while (*s) {
		size_t l = strcspn(s, seps);
		char *item = xstrndup(s, l);
		char *t = item;
		while (*t == ' ')
			t++;
		if (*t != '\0') {
			buf_puts(b, "- ");
			yaml_str(b, t);
			buf_puts(b, "\n");
		}
		free(item);
		s += l;
		if (*s)
			s++;
	}
}

/* The GGUF header of a present file, read for keys the summary does not
 * keep: an open fd and size, or -1. */
static int
open_gguf(struct store *st, const struct registry_file *e, uint64_t *size)
{
	int fd = -1;
	if (st == NULL || !e->present || store_blob_open(st, e->sha256, &fd, size) != GG_OK)
		return -1;
	return fd;
}

static uint64_t
gguf_u64(int fd, uint64_t size, const char *arch, const char *suffix)
{
	char key[96], val[32];
	uint64_t v = 0;

	if (snprintf_checked(key, sizeof(key), "%s.%s", arch, suffix) != GG_OK ||
	    gguf_find_text_fd(fd, size, key, val, sizeof(val)) != GG_OK ||
	    parse_u64_str(val, UINT64_MAX, &v) != GG_OK)
		return 0;
	return v;
}

/*
 * The KV cache of llama.cpp's default f16 cache at ctx tokens: K and V,
 * per layer, of n_embd / n_head * n_head_kv values each, 2 bytes a value.
 * 0 when the header does not give the shape (or the file is not here).
 */
static uint64_t
kv_cache_bytes(struct store *st, const struct registry_file *e, uint64_t ctx)
{
	uint64_t size, layers, embd, heads, kv_heads, bytes = 0;
	int fd = open_gguf(st, e, &size);

	if (fd < 0 || e->g.arch[0] == '\0')
		goto done;
	layers = gguf_u64(fd, size, e->g.arch, "block_count");
	embd = gguf_u64(fd, size, e->g.arch, "embedding_length");
	heads = gguf_u64(fd, size, e->g.arch, "attention.head_count");
	kv_heads = gguf_u64(fd, size, e->g.arch, "attention.head_count_kv");
	if (kv_heads == 0)
		kv_heads = heads;
	if (layers == 0 || embd == 0 || heads == 0 || layers > 100000 || embd > (1u << 24) ||
	    kv_heads > heads || ctx > (1u << 24))
		goto done;
	bytes = 2 * layers * ctx * (embd / heads) * kv_heads * 2;
done:
	if (fd >= 0)
		close(fd);
	return bytes;
}

/* A model file worth a row of its own: a model, not a later shard. */
static int
card_row(const struct registry_file *e)
{
	return strcmp(e->kind, "model") == 0 && (!e->split || e->shard_index == 1);
}

/* The first present model file, whose header speaks for the repo. */
static const struct registry_file *
lead_file(const struct registry *reg)
{
	for (size_t i = 0; i < reg->n; i++)
		if (card_row(&reg->v[i]) && reg->v[i].present)
			return &reg->v[i];
	return NULL;
}

/* A key of the lead file's header as text, into out; "" if absent. */
static void
lead_text(struct store *st, const struct registry *reg, const char *key, char *out, size_t n)
{
	const struct registry_file *e = lead_file(reg);
	uint64_t size;
	int fd;

	out[0] = '\0';
	if (e == NULL || (fd = open_gguf(st, e, &size)) < 0)
		return;
	if (gguf_find_text_fd(fd, size, key, out, n) != GG_OK)
		out[0] = '\0';
	close(fd);
}

static void
card_front_matter(struct buf *b, const struct registry *reg, struct store *st,
		  const struct registry_card_opts *o)
{
	char text[2048], url[1024];
	const char *hub = "https://huggingface.co/";

	buf_puts(b, "---\nlicense: ");
	lead_text(st, reg, "general.license", text, sizeof(text));
	yaml_str(b, o->license ? o->license : text[0] && !strchr(text, '\n') ? text : "other");
	buf_puts(b, "\nlanguage:\n");
	lead_text(st, reg, "general.languages", text, sizeof(text));
	yaml_list(b, o->language ? o->language : text[0] ? text : "en", o->language ? "," : "\n");
	buf_puts(b, "tags:\n- \"gguf\"\n");
	lead_text(st, reg, "general.tags", text, sizeof(text));
	if (text[0])
		yaml_list(b, text, "\n");
	{
		/* Each architecture and quant once, in file order. */
		struct buf seen;
		buf_init(&seen, 1u << 16);
		buf_puts(&seen, "\n");
		for (size_t i = 0; i < reg->n; i++) {
			const struct registry_file *e = &reg->v[i];
			const char *vals[2] = { e->g.arch, e->quant };
			if (!card_row(e))
				continue;
			for (int k = 0; k < 2; k++) {
				char *needle = xasprintf("\n%s\n", vals[k]);
				if (vals[k][0] && strstr(buf_cstr(&seen), needle) == NULL) {
					buf_printf(&seen, "%s\n", vals[k]);
					buf_puts(b, "- ");
					yaml_str(b, vals[k]);
					buf_puts(b, "\n");
				}
				free(needle);
			}
		}
		buf_free(&seen);
	}
	url[0] = '\0';
	if (o->base_model != NULL) {
		snprintf(url, sizeof(url), "%s", o->base_model);
	} else {
		lead_text(st, reg, "general.base_model.0.repo_url", text, sizeof(text));
		if (strncmp(text, hub, strlen(hub)) == 0 && route_valid_repo(text + strlen(hub)) &&
		    snprintf_checked(url, sizeof(url), "%s", text + strlen(hub)) != GG_OK)
			url[0] = '\0';
	}
	if (url[0] != '\0') {
		buf_puts(b, "base_model: ");
		yaml_str(b, url);
		buf_puts(b, "\n");
	}
	buf_puts(b, "---\n\n");
}

char *
registry_card(const struct registry *reg, struct store *st, const struct registry_card_opts *o)
{
	const char *base = o->base ? o->base : "http://localhost:8080";
	const char *hostport = strstr(base, "://") ? strstr(base, "://") + 3 : base;
	const struct registry_file *pick = NULL;
	struct buf b;
	size_t len;

	buf_init(&b, GG_MAX_README_BYTES);
	card_front_matter(&b, reg, st, o);
	buf_printf(&b, "# %s\n\n", reg->repo);
	buf_printf(
		&b,
		"GGUF model files of `%s` at revision `%s` (commit `%s`), as the ggufd mirror at "
		"%s serves them.\n\n",
		reg->repo, reg->rev, reg->commit, base);

	buf_puts(&b, "## Files\n\n"
		     "| File | Size | Quant | Parameters | Context | SHA256 |\n"
		     "| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < reg->n; i++) {
		const struct registry_file *e = &reg->v[i];
		char size[32], params[32], *url = file_url(reg, base, e->path);
		human_bytes(e->size, size, sizeof(size));
		human_count(e->has_gguf ? e->g.param_count : 0, params, sizeof(params));
		buf_printf(&b, "| [%s](%s) | %s | %s | %s | ", e->path, url, size,
			   e->quant[0] ? e->quant : "?", params);
		if (e->g.context_length)
			buf_printf(&b, "%llu", (unsigned long long)e->g.context_length);
		else
			buf_puts(&b, "?");
		buf_printf(&b, " | `%s` |\n", e->sha256);
		free(url);
	}

	buf_puts(&b,
		 "\n## Hardware (estimates)\n\n"
		 "Estimates, not measurements: RAM is about the model's file size plus the\n"
		 "KV cache for the context (llama.cpp's default f16 cache; the shape comes\n"
		 "from the GGUF header), plus a few hundred MiB of compute buffers. With every\n"
		 "layer offloaded the same amount is needed in VRAM instead.\n\n"
		 "| Model | Quant | Size | Parameters | KV cache at 4096 | RAM at 4096 | Context | "
		 "KV cache at context | RAM at context |\n"
		 "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < reg->n; i++) {
		const struct registry_file *e = &reg->v[i];
		uint64_t ctx = e->g.context_length, kv4, kvc;
		char size[32], params[32], a[32], c[32], d[32], f[32];
		if (!card_row(e))
			continue;
		kv4 = kv_cache_bytes(st, e, 4096);
		kvc = ctx ? kv_cache_bytes(st, e, ctx) : 0;
		human_bytes(e->set_size, size, sizeof(size));
		human_count(e->set_params, params, sizeof(params));
		human_bytes(kv4, a, sizeof(a));
		human_bytes(e->set_size + kv4, c, sizeof(c));
		human_bytes(kvc, d, sizeof(d));
		human_bytes(e->set_size + kvc, f, sizeof(f));
		/* Without the shape, the file size is all that is sure. */
		buf_printf(&b, "| %.*s | %s | %s | %s | %s | %s%s | ",
			   (int)(e->split ? e->prefix_len : strlen(e->path)), e->path,
			   e->quant[0] ? e->quant : "?", size, params, kv4 ? a : "?",
			   kv4 ? "" : "more than ", kv4 ? c : size);
		if (ctx)
			buf_printf(&b, "%llu | %s | %s%s |\n", (unsigned long long)ctx,
				   kvc ? d : "?", kvc ? "" : "more than ", kvc ? f : size);
		else
			buf_printf(&b, "? | ? | more than %s |\n", size);
	}

	/* Usage, for the Q4_K_M model when there is one (llama.cpp's default). */
	for (size_t i = 0; i < reg->n; i++)
		if (card_row(&reg->v[i]) &&
		    (pick == NULL || strcasecmp(reg->v[i].quant, "Q4_K_M") == 0))
			pick = pick && strcasecmp(pick->quant, "Q4_K_M") == 0 ? pick : &reg->v[i];
	if (pick != NULL) {
		char *url = file_url(reg, base, pick->path);
		const char *q = pick->quant[0] ? pick->quant : "latest";
		buf_printf(&b,
			   "\n## Usage\n\n"
			   "```sh\n"
			   "# curl\n"
			   "curl -fLO %s\n"
			   "# huggingface_hub (Python), pointed at this mirror\n"
			   "HF_ENDPOINT=%s python3 -c 'from huggingface_hub import hf_hub_download "
			   "as d; "
			   "print(d(\"%s\", \"%s\"))'\n"
			   "# llama.cpp\n"
			   "MODEL_ENDPOINT=%s/ llama-cli -hf %s:%s\n"
			   "# node-llama-cpp\n"
			   "MODEL_ENDPOINT=%s/ npx --no node-llama-cpp pull hf:%s:%s\n"
			   "# Ollama\n"
			   "ollama pull %s/%s:%s --insecure\n"
			   "```\n",
			   url, base, reg->repo, pick->path, base, reg->repo, q, base, reg->repo, q,
			   hostport, reg->repo, q);
		free(url);
	}
	return buf_steal(&b, &len);
}

/* --- the route ------------------------------------------------------------------- */

enum MHD_Result
registry_handle(struct req *r)
{
	char *rev = http_query_get(r, "revision"), *fmt = http_query_get(r, "format");
	struct registry reg;
	enum MHD_Result res;
	int known = 0, rc, sums = fmt != NULL && strcmp(fmt, "sha256sums") == 0;

	memset(&reg, 0, sizeof(reg));
	if ((rev != NULL && (rev[0] == '\0' || strlen(rev) > GG_MAX_REV_LEN)) ||
	    (fmt != NULL && !sums && strcmp(fmt, "json") != 0)) {
		res = http_error(
			r, MHD_HTTP_BAD_REQUEST, "BadRequest",
			"Use /api/ggufd/registry/NS/NAME[?revision=REV][&format=json|sha256sums]",
			NULL);
		goto done;
	}
	rc = registry_collect(r->app->st, r->route.type, r->route.repo, rev ? rev : "main", &reg,
			      &known);
	if (rc == GG_ENOENT) {
		res = hub_rev_error(r, rc, known);
		goto done;
	}
	if (rc != GG_OK) {
		res = http_error_from(r, rc, "registry");
		goto done;
	}
	if (sums) {
		char *txt = registry_sha256sums(&reg);
		struct MHD_Response *resp =
			http_response_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
		MHD_add_response_header(resp, "X-Repo-Commit", reg.commit);
		res = http_queue(r, MHD_HTTP_OK, resp);
	} else {
		char *base = http_base_url(r);
		cJSON *o = registry_json(&reg, base);
		char *txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		free(base);
		if (txt == NULL)
			log_fatalx("cJSON_PrintUnformatted() failed: out of memory");
		res = http_json(r, MHD_HTTP_OK, txt);
	}
done:
	registry_free(&reg);
	free(rev);
	free(fmt);
	return res;
}
