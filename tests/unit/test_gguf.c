/*
 * test_gguf.c: the GGUF parser against generated files, hand-made bad
 * files, every truncation and random corruption.
 *
 * Expected values are worked out by hand in the tests (element counts,
 * byte sizes, offsets), not taken from the generator, so that a mistake
 * shared by ggufgen and gguf.c would still fail here.  Hostile counts are
 * fed through a counting reader to check that the parser neither reads
 * nor loops in proportion to them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gguf.h"
#include "tests/tools/ggufgen.h"
#include "gg_limits.h"
#include "util.h"

/* --- helpers ---------------------------------------------------------- */

/*
 * A virtual file: the bytes of p, then zeros up to size.  Counts calls
 * and bytes, can fail with -1 on call number fail_at (1-based), and can
 * hand out at most max_chunk bytes per call.
 */
struct vfile {
	const unsigned char *p;
	size_t len;
	uint64_t size;
	unsigned long calls;
	uint64_t bytes;
	unsigned long fail_at;
	size_t max_chunk;
};

static long
vread(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct vfile *v = ctx;
	v->calls++;
	if (v->fail_at != 0 && v->calls == v->fail_at) {
		errno = EIO;
		return -1;
	}
	if (off >= v->size)
		return 0;
	if (n > v->size - off)
		n = (size_t)(v->size - off);
	if (v->max_chunk != 0 && n > v->max_chunk)
		n = v->max_chunk;
	for (size_t i = 0; i < n; i++)
		((unsigned char *)buf)[i] = off + i < v->len ? v->p[off + i] : 0;
	v->bytes += n;
	return (long)n;
}

static int
parse_virtual(const struct ggufgen_buf *b, uint64_t size, struct vfile *v, struct gguf_summary *s)
{
	memset(v, 0, sizeof *v);
	v->p = b->data;
	v->len = b->len;
	v->size = size;
	return gguf_parse(vread, v, size, s);
}

static int
parse_buf(const struct ggufgen_buf *b, struct gguf_summary *s)
{
	return gguf_parse_mem(b->data, b->len, s);
}

/* Offset of the first occurrence of needle (as GGUF string bytes) in b. */
static size_t
find(const unsigned char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(p + i, needle, n) == 0)
			return i;
	fail_msg("\"%s\" not found", needle);
	return 0;
}

/* The standard small model: default tensors for ftype. */
static struct ggufgen_tensor model[GGUFGEN_DEFAULT_TENSORS];

static void
model_opts(struct ggufgen_opts *o, int32_t ftype)
{
	ggufgen_defaults(o);
	o->name = "tiny";
	o->file_type = ftype;
	o->context_length = 4096;
	o->n_tensors = ggufgen_default_tensors(ftype, model, GGUFGEN_DEFAULT_TENSORS);
	o->tensors = model;
	o->seed = 7;
}

static unsigned char *
gen(const struct ggufgen_opts *o, size_t *len)
{
	unsigned char *p = ggufgen_mem(o, len);
	assert_non_null(p);
	return p;
}

/* Header of a v3 file with n_tensors tensors and n_kv pairs, then the arch. */
static void
start_file(struct ggufgen_buf *b, uint64_t n_tensors, uint64_t n_kv)
{
	memset(b, 0, sizeof *b);
	ggufgen_put_bytes(b, "GGUF", 4);
	ggufgen_put_u32(b, 3);
	ggufgen_put_u64(b, n_tensors);
	ggufgen_put_u64(b, n_kv);
}

static void
put_kv_u32(struct ggufgen_buf *b, const char *key, uint32_t type, uint64_t v, size_t width)
{
	ggufgen_put_str(b, key);
	ggufgen_put_u32(b, type);
	for (size_t i = 0; i < width; i++)
		ggufgen_put_u8(b, (uint8_t)(v >> (8 * i)));
}

static void
put_tensor(struct ggufgen_buf *b, const char *name, uint32_t n_dims, const uint64_t *dims,
	   uint32_t type, uint64_t off)
{
	ggufgen_put_str(b, name);
	ggufgen_put_u32(b, n_dims);
	/* at most 5 dims from the caller, whatever n_dims claims */
	for (uint32_t i = 0; i < n_dims && i < 5; i++)
		ggufgen_put_u64(b, dims[i]);
	ggufgen_put_u32(b, type);
	ggufgen_put_u64(b, off);
}

/* Pads b to a multiple of 32 and appends data_len zero bytes. */
static void
finish_file(struct ggufgen_buf *b, size_t data_len)
{
	ggufgen_put_zeros(b, (32 - b->len % 32) % 32);
	ggufgen_put_zeros(b, data_len);
}

/* A file with one tensor and no pairs. */
static int
one_tensor(uint32_t n_dims, const uint64_t *dims, uint32_t type, uint64_t off, size_t data_len,
	   struct gguf_summary *s)
{
	struct ggufgen_buf b;
	start_file(&b, 1, 0);
	put_tensor(&b, "t", n_dims, dims, type, off);
	finish_file(&b, data_len);
	int rc = parse_buf(&b, s);
	ggufgen_buf_free(&b);
	return rc;
}

/* Checks what must hold of any summary the parser accepts. */
static void
check_invariants(const struct gguf_summary *s, uint64_t file_size)
{
	assert_true(s->version == 2 || s->version == 3);
	assert_non_null(memchr(s->arch, '\0', sizeof s->arch));
	assert_non_null(memchr(s->name, '\0', sizeof s->name));
	assert_non_null(memchr(s->quant, '\0', sizeof s->quant));
	assert_true(s->alignment != 0 && (s->alignment & (s->alignment - 1)) == 0);
	assert_int_equal(s->data_offset % s->alignment, 0);
	if (s->tensor_count > 0) {
		assert_true(s->data_offset <= file_size);
		assert_true(s->data_size <= file_size - s->data_offset);
		assert_true(s->param_count >= s->tensor_count);
	}
	const char *q = gguf_ftype_name(s->file_type);
	assert_string_equal(s->quant, q ? q : "");
	for (const char *c = s->arch; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
}

/* --- valid files ------------------------------------------------------ */

/*
 * The Q4_K_M default model by hand (block 256; Q4_K 144 bytes, Q6_K 210):
 *   token_embd  256x4  Q4_K  4 blocks  576 B  at    0
 *   attn_norm   256    F32             1024 B at  576
 *   attn_q      256x2  Q4_K  2 blocks  288 B  at 1600
 *   ffn_down    256x2  Q4_K            288 B  at 1888
 *   output_norm 256    F32             1024 B at 2176
 *   output      256x4  Q6_K  4 blocks  840 B  at 3200 -> data_size 4040
 */
/* gguf_find_text: keys the summary does not keep, as text. */
static void
test_find_text(void **state)
{
	(void)state;
	static const char *const kvs[] = {
		"general.license=apache-2.0",
		"general.languages=en,fr,de",
		"general.base_model.0.repo_url=https://huggingface.co/Qwen/Qwen2.5-0.5B",
		"llama.block_count=u32:24",
		"ctl=a\nb",
	};
	struct ggufgen_opts o;
	struct gguf_summary s;
	char out[64], tiny[6];
	size_t len;

	model_opts(&o, 15);
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	o.text_kvs = kvs;
	o.n_text_kvs = sizeof(kvs) / sizeof(kvs[0]);
	unsigned char *p = gen(&o, &len);
	/* The pairs keep the file valid and the summary as it was. */
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_string_equal(s.quant, "Q4_K_M");
	assert_int_equal(gguf_find_text_mem(p, len, "general.license", out, sizeof out), GG_OK);
	assert_string_equal(out, "apache-2.0");
	assert_int_equal(gguf_find_text_mem(p, len, "general.languages", out, sizeof out), GG_OK);
	assert_string_equal(out, "en\nfr\nde");
	assert_int_equal(
		gguf_find_text_mem(p, len, "general.base_model.0.repo_url", out, sizeof out),
		GG_OK);
	assert_string_equal(out, "https://huggingface.co/Qwen/Qwen2.5-0.5B");
	assert_int_equal(gguf_find_text_mem(p, len, "llama.block_count", out, sizeof out), GG_OK);
	assert_string_equal(out, "24");
	assert_int_equal(gguf_find_text_mem(p, len, "llama.context_length", out, sizeof out),
			 GG_OK);
	assert_string_equal(out, "4096");
	assert_int_equal(gguf_find_text_mem(p, len, "general.name", out, sizeof out), GG_OK);
	assert_string_equal(out, "tiny");
	/* Control bytes come out as '?', as in the summary. */
	assert_int_equal(gguf_find_text_mem(p, len, "ctl", out, sizeof out), GG_OK);
	assert_string_equal(out, "a?b");
	/* Absent, not text (a float), or an array of numbers: GG_ENOENT and "". */
	assert_int_equal(gguf_find_text_mem(p, len, "general.tags", out, sizeof out), GG_ENOENT);
	assert_string_equal(out, "");
	assert_int_equal(gguf_find_text_mem(p, len, "ggufgen.float32", out, sizeof out), GG_ENOENT);
	assert_int_equal(gguf_find_text_mem(p, len, "tokenizer.ggml.scores", out, sizeof out),
			 GG_ENOENT);
	/* An element that does not fit whole is left out. */
	assert_int_equal(gguf_find_text_mem(p, len, "general.languages", tiny, sizeof tiny), GG_OK);
	assert_string_equal(tiny, "en\nfr");
	assert_int_equal(gguf_find_text_mem(p, len, "general.license", tiny, sizeof tiny),
			 GG_ENOENT);
	/* Bad arguments and a cut file. */
	assert_int_equal(gguf_find_text_mem(p, len, "general.license", out, 0), GG_EINVAL);
	assert_int_equal(gguf_find_text_mem(p, 40, "general.license", out, sizeof out),
			 GG_ECORRUPT);
	assert_int_equal(gguf_find_text_mem("GGUF", 4, "x", out, sizeof out), GG_ECORRUPT);
	assert_int_equal(gguf_find_text_mem("NOPE....", 8, "x", out, sizeof out), GG_EFORMAT);
	free(p);
}

static void
test_v3_q4_k_m(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct ggufgen_layout l;
	struct gguf_summary s;
	size_t len;

	model_opts(&o, 15);
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_int_equal(s.version, 3);
	assert_string_equal(s.arch, "llama");
	assert_string_equal(s.name, "tiny");
	assert_int_equal(s.file_type, 15);
	assert_string_equal(s.quant, "Q4_K_M");
	assert_int_equal(s.context_length, 4096);
	assert_int_equal(s.tensor_count, 6);
	assert_int_equal(s.kv_count, 4);
	assert_int_equal(s.param_count, 1024 + 256 + 512 + 512 + 256 + 1024);
	assert_int_equal(s.alignment, 32);
	assert_int_equal(s.data_size, 4040);
	assert_int_equal(s.data_offset % 32, 0);
	assert_int_equal(ggufgen_layout(&o, &l), 0);
	assert_int_equal(s.data_offset, l.data_offset);
	/* the last tensor is padded to the alignment, as llama.cpp writes it */
	assert_int_equal(len, s.data_offset + 4064);
	check_invariants(&s, len);
	free(p);
}

static void
test_v2_q8_0_extras(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	model_opts(&o, 7);
	o.version = 2;
	o.arch = "qwen2";
	o.name = "Qwen2 0.5B";
	o.context_length = 32768;
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_int_equal(s.version, 2);
	assert_string_equal(s.arch, "qwen2");
	assert_string_equal(s.name, "Qwen2 0.5B");
	assert_int_equal(s.file_type, 7);
	assert_string_equal(s.quant, "Q8_0");
	assert_int_equal(s.context_length, 32768);
	/* 4 general/context + 6 tokenizer + 14 scalars + 3 nested */
	assert_int_equal(s.kv_count, 27);
	assert_int_equal(s.tensor_count, 6);
	assert_int_equal(s.param_count, 3584);
	/* Q8_0: 34 bytes per 32; output is Q8_0 too (not a k-quant):
	 * 1088 @0, 1024 @1088, 544 @2112, 544 @2656, 1024 @3200, 1088 @4224 */
	assert_int_equal(s.data_size, 4224 + 1088);
	check_invariants(&s, len);
	free(p);
}

static void
test_every_ftype(void **state)
{
	(void)state;
	static const int32_t ftypes[] = { 0,  1,  2,  3,  7,  8,  9,  10, 11, 12, 13,
					  14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
					  25, 26, 27, 28, 29, 30, 31, 32, 36, 37, 38 };
	for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++) {
		struct ggufgen_opts o;
		struct gguf_summary s;
		size_t len;
		model_opts(&o, ftypes[i]);
		unsigned char *p = gen(&o, &len);
		assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
		assert_int_equal(s.file_type, ftypes[i]);
		assert_string_equal(s.quant, gguf_ftype_name(ftypes[i]));
		assert_int_equal(s.param_count, 3584);
		check_invariants(&s, len);
		free(p);
	}
}

/* Each ggml type's block and size, checked through the bounds check: a
 * tensor of exactly one block fits in block-size bytes and not in one
 * byte less. */
static void
test_ggml_type_sizes(void **state)
{
	(void)state;
	static const struct {
		uint32_t type, block, size;
	} t[] = {
		{ 0, 1, 4 },      { 1, 1, 2 },      { 2, 32, 18 },    { 3, 32, 20 },
		{ 6, 32, 22 },    { 7, 32, 24 },    { 8, 32, 34 },    { 9, 32, 36 },
		{ 10, 256, 84 },  { 11, 256, 110 }, { 12, 256, 144 }, { 13, 256, 176 },
		{ 14, 256, 210 }, { 15, 256, 292 }, { 16, 256, 66 },  { 17, 256, 74 },
		{ 18, 256, 98 },  { 19, 256, 50 },  { 20, 32, 18 },   { 21, 256, 110 },
		{ 22, 256, 82 },  { 23, 256, 136 }, { 24, 1, 1 },     { 25, 1, 2 },
		{ 26, 1, 4 },     { 27, 1, 8 },     { 28, 1, 8 },     { 29, 256, 56 },
		{ 30, 1, 2 },     { 34, 256, 54 },  { 35, 256, 66 },  { 39, 32, 17 },
	};
	struct gguf_summary s;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint64_t dims[2] = { t[i].block, 3 };
		assert_int_equal(one_tensor(2, dims, t[i].type, 0, 3 * t[i].size, &s), GG_OK);
		assert_int_equal(s.data_size, 3 * t[i].size);
		assert_int_equal(s.param_count, 3 * t[i].block);
		assert_int_equal(one_tensor(2, dims, t[i].type, 0, 3 * t[i].size - 1, &s),
				 GG_ECORRUPT);
		if (t[i].block > 1) {
			dims[0] = t[i].block + 1;
			assert_int_equal(one_tensor(2, dims, t[i].type, 0, 4096, &s), GG_EFORMAT);
		}
	}
}

static void
test_arch_after_context(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	model_opts(&o, 2);
	o.arch = "gemma3";
	o.arch_last = 1;
	o.context_length = 131072;
	o.extra_kvs = GGUFGEN_EXTRA_SCALARS;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_string_equal(s.arch, "gemma3");
	assert_int_equal(s.context_length, 131072);
	/* the arch really is last: its key follows the context key */
	assert_true(find(p, len, "general.architecture") > find(p, len, "gemma3.context_length"));
	free(p);
}

static void
test_context_int_types(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;

	/* Another arch's context, an int16 one for ours, a u64 over 2^32. */
	start_file(&b, 0, 3);
	put_kv_u32(&b, "mistral.context_length", 4, 999, 4);
	put_kv_u32(&b, "llama.context_length", 3, 2048, 2);
	ggufgen_put_str(&b, "general.architecture");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "llama");
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.context_length, 2048);
	ggufgen_buf_free(&b);

	start_file(&b, 0, 2);
	ggufgen_put_str(&b, "general.architecture");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "llama");
	put_kv_u32(&b, "llama.context_length", 10, UINT64_C(1) << 33, 8);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.context_length, UINT64_C(1) << 33);
	ggufgen_buf_free(&b);

	/* negative: treated as absent */
	start_file(&b, 0, 2);
	ggufgen_put_str(&b, "general.architecture");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "llama");
	put_kv_u32(&b, "llama.context_length", 5, (uint32_t)-5, 4);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.context_length, 0);
	ggufgen_buf_free(&b);

	/* a float is not a context length; the value is still skipped */
	start_file(&b, 0, 2);
	put_kv_u32(&b, "llama.context_length", 6, 0x45800000u, 4);
	ggufgen_put_str(&b, "general.architecture");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "llama");
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.context_length, 0);
	assert_string_equal(s.arch, "llama");
	ggufgen_buf_free(&b);

	/* the same context key twice is a duplicate key */
	start_file(&b, 0, 3);
	put_kv_u32(&b, "llama.context_length", 4, 1, 4);
	ggufgen_put_str(&b, "general.architecture");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "llama");
	put_kv_u32(&b, "llama.context_length", 4, 2, 4);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_buf_free(&b);
}

static void
test_alignment(void **state)
{
	(void)state;
	static const uint32_t aligns[] = { 1, 8, 64, 4096 };
	struct ggufgen_opts o;
	struct ggufgen_layout l;
	struct gguf_summary s;
	size_t len;

	for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
		model_opts(&o, 1); /* F16: 2 bytes each, 512 B per 256x1 */
		o.alignment = aligns[i];
		unsigned char *p = gen(&o, &len);
		assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
		assert_int_equal(s.alignment, aligns[i]);
		assert_int_equal(s.kv_count, 5);
		assert_int_equal(s.data_offset % aligns[i], 0);
		assert_int_equal(ggufgen_layout(&o, &l), 0);
		assert_int_equal(s.data_offset, l.data_offset);
		assert_true(s.data_offset - l.header_len < aligns[i]);
		free(p);
	}

	/* Break the value: 0, 48, and a misaligned tensor under 4096. */
	model_opts(&o, 1);
	o.alignment = 4096;
	unsigned char *p = gen(&o, &len);
	struct ggufgen_buf b = { p, len, len };
	size_t at = find(p, len, "general.alignment") + strlen("general.alignment") + 4;
	ggufgen_patch_u32(&b, at, 0);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, at, 48);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, at, 4096);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	/* the second tensor sits at 4096 (the first is 2048 bytes) */
	size_t ti = find(p, len, "blk.0.attn_norm.weight") + strlen("blk.0.attn_norm.weight");
	size_t off_at = ti + 4 + 8 + 4;
	ggufgen_patch_u64(&b, off_at, 2048);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u64(&b, off_at, 4096);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	/* alignment must be a uint32 */
	ggufgen_patch_u32(&b, at - 4, 5);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_buf_free(&b);
}

static void
test_no_tensors(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	ggufgen_defaults(&o);
	o.extra_kvs = GGUFGEN_EXTRA_TOKENIZER;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_int_equal(s.tensor_count, 0);
	assert_int_equal(s.param_count, 0);
	assert_int_equal(s.data_size, 0);
	assert_int_equal(s.file_type, -1);
	assert_string_equal(s.quant, "");
	assert_string_equal(s.name, "");
	assert_int_equal(s.context_length, 0);
	assert_int_equal(s.kv_count, 7);
	free(p);
}

static void
test_strings_in_summary(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	char arch[101], name[201],
		ctl[8] = "a\tb\x7f"
			 "c";
	size_t len;

	memset(arch, 'x', 100);
	arch[100] = '\0';
	/* 100 two-byte characters: a cut at 127 bytes would split one */
	for (int i = 0; i < 100; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[200] = '\0';
	model_opts(&o, 15);
	o.arch = arch;
	o.name = name;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_int_equal(strlen(s.arch), 63);
	assert_int_equal(strlen(s.name), 126);
	assert_memory_equal(s.name, name, 126);
	/* an arch too long to keep whole cannot name its context key */
	assert_int_equal(s.context_length, 0);
	free(p);

	model_opts(&o, 15);
	o.name = ctl;
	p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_string_equal(s.name, "a?b?c");
	free(p);

	/* 127 ASCII bytes fit exactly */
	memset(name, 'n', 127);
	name[127] = '\0';
	model_opts(&o, 15);
	o.name = name;
	p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	assert_string_equal(s.name, name);
	free(p);
}

static void
test_wrong_types_and_duplicates(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;

	/* informational keys with the wrong type are ignored */
	start_file(&b, 0, 3);
	put_kv_u32(&b, "general.architecture", 4, 1, 4);
	ggufgen_put_str(&b, "general.file_type");
	ggufgen_put_u32(&b, 8);
	ggufgen_put_str(&b, "Q4_K_M");
	put_kv_u32(&b, "general.name", 0, 1, 1);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_string_equal(s.arch, "");
	assert_int_equal(s.file_type, -1);
	assert_string_equal(s.name, "");
	ggufgen_buf_free(&b);

	/* file_type as int32, negative: absent */
	start_file(&b, 0, 1);
	put_kv_u32(&b, "general.file_type", 5, (uint32_t)-3, 4);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.file_type, -1);
	ggufgen_buf_free(&b);

	/* file_type as int32: accepted; unknown value: no quant name */
	start_file(&b, 0, 1);
	put_kv_u32(&b, "general.file_type", 5, 30, 4);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.file_type, 30);
	assert_string_equal(s.quant, "IQ4_XS");
	ggufgen_buf_free(&b);
	start_file(&b, 0, 1);
	put_kv_u32(&b, "general.file_type", 4, 4, 4);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	assert_int_equal(s.file_type, 4);
	assert_string_equal(s.quant, "");
	ggufgen_buf_free(&b);

	static const char *const dup[] = { "general.architecture", "general.name",
					   "general.file_type", "general.alignment" };
	for (size_t i = 0; i < 4; i++) {
		start_file(&b, 0, 2);
		for (int k = 0; k < 2; k++) {
			if (i < 2) {
				ggufgen_put_str(&b, dup[i]);
				ggufgen_put_u32(&b, 8);
				ggufgen_put_str(&b, "x");
			} else {
				put_kv_u32(&b, dup[i], 4, 32, 4);
			}
		}
		assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
		ggufgen_buf_free(&b);
	}
}

/* --- truncation and corruption ---------------------------------------- */

static void
test_every_truncation(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len, ok = 0;

	model_opts(&o, 12);
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	o.alignment = 64;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	uint64_t need = s.data_offset + s.data_size;
	assert_true(need < len); /* the trailing padding is optional */
	for (size_t n = 0; n < len; n++) {
		/* a copy of exactly n bytes, so ASan sees any overread */
		unsigned char *q = malloc(n ? n : 1);
		assert_non_null(q);
		memcpy(q, p, n);
		int rc = gguf_parse_mem(q, n, &s);
		if (n < need) {
			assert_int_equal(rc, GG_ECORRUPT);
		} else {
			assert_int_equal(rc, GG_OK);
			ok++;
		}
		free(q);
	}
	assert_int_equal(ok, len - need);
	free(p);
}

static void
test_bad_magic_and_version(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	assert_int_equal(gguf_parse_mem(NULL, 0, &s), GG_ECORRUPT);
	assert_int_equal(gguf_parse_mem("GG", 2, &s), GG_ECORRUPT);
	assert_int_equal(gguf_parse_mem("PK\x03\x04", 4, &s), GG_EFORMAT);
	assert_int_equal(gguf_parse_mem("hello world, not a model", 24, &s), GG_EFORMAT);
	assert_int_equal(gguf_parse_mem("X", 1, &s), GG_EFORMAT);

	model_opts(&o, 15);
	unsigned char *p = gen(&o, &len);
	p[3] = 'G';
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_EFORMAT);
	/* on failure the summary is left zeroed */
	assert_int_equal(s.version, 0);
	assert_int_equal(s.tensor_count, 0);
	free(p);

	static const uint32_t bad[] = { 0, 1, 4, 0x03000000u, UINT32_MAX };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o.version = bad[i];
		if (bad[i] == 0)
			continue; /* ggufgen reads 0 as 3 */
		p = gen(&o, &len);
		assert_int_equal(gguf_parse_mem(p, len, &s), GG_EFORMAT);
		free(p);
	}
	struct ggufgen_buf b;
	start_file(&b, 0, 0);
	ggufgen_patch_u32(&b, 4, 0);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, 4, 2);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	ggufgen_buf_free(&b);
}

static void
test_bad_value_types(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	model_opts(&o, 15);
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	unsigned char *p = gen(&o, &len);
	struct ggufgen_buf b = { p, len, len };
	size_t at = find(p, len, "ggufgen.u16") + strlen("ggufgen.u16");
	ggufgen_patch_u32(&b, at, 13);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, at, UINT32_MAX);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, at, 2);
	assert_int_equal(parse_buf(&b, &s), GG_OK);

	/* the element type of tokenizer.ggml.scores */
	at = find(p, len, "tokenizer.ggml.scores") + strlen("tokenizer.ggml.scores") + 4;
	ggufgen_patch_u32(&b, at, 13);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_patch_u32(&b, at, 6);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	ggufgen_buf_free(&b);

	/* an empty array still needs a valid element type */
	start_file(&b, 0, 1);
	ggufgen_put_str(&b, "a");
	ggufgen_put_u32(&b, 9);
	ggufgen_put_u32(&b, 77);
	ggufgen_put_u64(&b, 0);
	assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	ggufgen_buf_free(&b);
}

static void
test_bad_tensor_types(void **state)
{
	(void)state;
	static const uint32_t bad[] = { 4, 5, 31, 32, 33, 36, 37, 38, 40, 1000, UINT32_MAX };
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;

	model_opts(&o, 0);
	unsigned char *p = gen(&o, &len);
	struct ggufgen_buf b = { p, len, len };
	size_t at = find(p, len, "output.weight") + strlen("output.weight") + 4 + 16;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ggufgen_patch_u32(&b, at, bad[i]);
		assert_int_equal(parse_buf(&b, &s), GG_EFORMAT);
	}
	ggufgen_patch_u32(&b, at, 0);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	ggufgen_buf_free(&b);
}

static void
test_tensor_dims(void **state)
{
	(void)state;
	struct gguf_summary s;
	uint64_t dims[5] = { 32, 2, 3, 4, 5 };

	assert_int_equal(one_tensor(0, dims, 0, 0, 4096, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(5, dims, 0, 0, 1u << 20, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(UINT32_MAX, dims, 0, 0, 4096, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(4, dims, 0, 0, 32 * 24 * 4, &s), GG_OK);
	assert_int_equal(s.param_count, 32 * 24);
	/* a zero dimension anywhere */
	for (int d = 0; d < 4; d++) {
		uint64_t z[4] = { 32, 2, 3, 4 };
		z[d] = 0;
		assert_int_equal(one_tensor(4, z, 0, 0, 4096, &s), GG_EFORMAT);
	}
}

static void
test_tensor_offsets(void **state)
{
	(void)state;
	struct gguf_summary s;
	uint64_t dims[1] = { 32 }; /* Q8_0: one block, 34 bytes */

	assert_int_equal(one_tensor(1, dims, 8, 32, 66, &s), GG_OK);
	assert_int_equal(s.data_size, 66);
	assert_int_equal(one_tensor(1, dims, 8, 32, 65, &s), GG_ECORRUPT);
	assert_int_equal(one_tensor(1, dims, 8, 16, 4096, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(1, dims, 8, 1, 4096, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(1, dims, 8, UINT64_MAX - 31, 4096, &s), GG_ECORRUPT);
	assert_int_equal(one_tensor(1, dims, 8, UINT64_C(1) << 62, 4096, &s), GG_ECORRUPT);
}

static void
test_element_count_overflow(void **state)
{
	(void)state;
	struct gguf_summary s;
	uint64_t d1[2] = { UINT64_C(1) << 32, UINT64_C(1) << 32 };
	uint64_t d2[2] = { UINT64_C(1) << 31, UINT64_C(1) << 32 }; /* 2^63 */
	uint64_t d3[4] = { 1u << 16, 1u << 16, 1u << 16, 1u << 16 };
	uint64_t d4[1] = { UINT64_MAX };
	uint64_t d5[1] = { (uint64_t)INT64_MAX }; /* fits int64, not in bytes */

	assert_int_equal(one_tensor(2, d1, 24, 0, 64, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(2, d2, 24, 0, 64, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(4, d3, 24, 0, 64, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(1, d4, 24, 0, 64, &s), GG_EFORMAT);
	assert_int_equal(one_tensor(1, d5, 27, 0, 64, &s), GG_ECORRUPT);
	assert_int_equal(one_tensor(1, d5, 24, 0, 64, &s), GG_ECORRUPT);
}

/* Three I8 tensors of 2^63 - 1 elements overlap in a (virtual) file of
 * 2^64 - 1 bytes: each fits, their sum does not. */
static void
test_param_count_overflow(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;
	struct vfile v;
	uint64_t d[1] = { (uint64_t)INT64_MAX };

	start_file(&b, 2, 0);
	put_tensor(&b, "a", 1, d, 24, 0);
	put_tensor(&b, "b", 1, d, 24, 0);
	assert_int_equal(parse_virtual(&b, UINT64_MAX, &v, &s), GG_OK);
	assert_int_equal(s.param_count, UINT64_MAX - 1);
	ggufgen_buf_free(&b);

	start_file(&b, 3, 0);
	put_tensor(&b, "a", 1, d, 24, 0);
	put_tensor(&b, "b", 1, d, 24, 0);
	put_tensor(&b, "c", 1, d, 24, 0);
	assert_int_equal(parse_virtual(&b, UINT64_MAX, &v, &s), GG_EFORMAT);
	assert_true(v.bytes <= 64 * 1024);
	ggufgen_buf_free(&b);
}

/* A header whose counts or lengths are huge: refused fast, reading little. */
static void
test_huge_counts(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;
	struct vfile v;

	start_file(&b, 0, UINT64_MAX);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);
	start_file(&b, 0, GG_GGUF_MAX_KV + 1);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);
	start_file(&b, GG_GGUF_MAX_TENSORS + 1, 0);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);
	start_file(&b, UINT64_MAX, 0);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);

	/* counts at the limit, in a file that ends: truncation */
	start_file(&b, 0, GG_GGUF_MAX_KV);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ECORRUPT);
	ggufgen_buf_free(&b);
	start_file(&b, GG_GGUF_MAX_TENSORS, 0);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ECORRUPT);
	ggufgen_buf_free(&b);

	/* key length */
	start_file(&b, 0, 1);
	ggufgen_put_u64(&b, UINT64_MAX);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_patch_u64(&b, 24, GG_GGUF_MAX_KEY_LEN + 1);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
	ggufgen_patch_u64(&b, 24, GG_GGUF_MAX_KEY_LEN);
	assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ECORRUPT);
	ggufgen_buf_free(&b);

	/* string value length, for a kept key and a skipped one */
	static const char *const keys[] = { "general.name", "some.other.key" };
	for (int k = 0; k < 2; k++) {
		start_file(&b, 0, 1);
		ggufgen_put_str(&b, keys[k]);
		ggufgen_put_u32(&b, 8);
		size_t at = b.len;
		ggufgen_put_u64(&b, UINT64_MAX);
		assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
		ggufgen_patch_u64(&b, at, (uint64_t)GG_GGUF_MAX_STRING_LEN + 1);
		assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
		ggufgen_patch_u64(&b, at, GG_GGUF_MAX_STRING_LEN);
		assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ECORRUPT);
		/* ... and present: accepted */
		assert_int_equal(parse_virtual(&b, b.len + GG_GGUF_MAX_STRING_LEN, &v, &s), GG_OK);
		ggufgen_buf_free(&b);
	}

	/* array length: of u64 (skipped arithmetically) and of strings
	 * (stepped over one by one) */
	static const uint32_t elems[] = { 10, 8, 9 };
	for (int e = 0; e < 3; e++) {
		start_file(&b, 0, 1);
		ggufgen_put_str(&b, "a");
		ggufgen_put_u32(&b, 9);
		ggufgen_put_u32(&b, elems[e]);
		size_t at = b.len;
		ggufgen_put_u64(&b, UINT64_MAX);
		assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
		ggufgen_patch_u64(&b, at, GG_GGUF_MAX_ARRAY_LEN + 1);
		assert_int_equal(parse_virtual(&b, b.len, &v, &s), GG_ETOOBIG);
		ggufgen_patch_u64(&b, at, GG_GGUF_MAX_ARRAY_LEN);
		assert_int_equal(parse_virtual(&b, b.len + 100, &v, &s), GG_ECORRUPT);
		assert_true(v.bytes <= b.len + 100);
		assert_true(v.calls < 10);
		ggufgen_buf_free(&b);
	}

	/* a tensor name that is too long */
	start_file(&b, 1, 0);
	ggufgen_put_u64(&b, GG_GGUF_MAX_KEY_LEN + 1);
	assert_int_equal(parse_virtual(&b, UINT64_C(1) << 30, &v, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);
}

/* The header region may reach GG_GGUF_MAX_HEADER and not pass it; the
 * skipped bytes are never read. */
static void
test_header_limit(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;
	struct vfile v;
	const uint64_t big = UINT64_C(1) << 32;

	/* 24 bytes of header, 8 + 8 of key, 4 + 4 + 8 of array header: 56 */
	start_file(&b, 0, 1);
	ggufgen_put_str(&b, "abcdefgh");
	ggufgen_put_u32(&b, 9);
	ggufgen_put_u32(&b, 10);
	size_t at = b.len;
	ggufgen_put_u64(&b, (GG_GGUF_MAX_HEADER - 56) / 8);
	assert_int_equal(b.len, 56);
	assert_int_equal(parse_virtual(&b, big, &v, &s), GG_OK);
	assert_int_equal(s.data_offset, GG_GGUF_MAX_HEADER);
	assert_true(v.bytes <= 64 * 1024);

	/* one element more: too big in a big file, truncated in a small one */
	ggufgen_patch_u64(&b, at, (GG_GGUF_MAX_HEADER - 56) / 8 + 1);
	assert_int_equal(parse_virtual(&b, big, &v, &s), GG_ETOOBIG);
	assert_int_equal(parse_virtual(&b, GG_GGUF_MAX_HEADER, &v, &s), GG_ECORRUPT);
	ggufgen_patch_u64(&b, at, GG_GGUF_MAX_ARRAY_LEN); /* 2 GiB of u64 */
	assert_int_equal(parse_virtual(&b, big, &v, &s), GG_ETOOBIG);
	assert_true(v.bytes <= 64 * 1024);
	ggufgen_buf_free(&b);

	/* A second pair read from the zeros after a u32 array (empty key,
	 * type u8: 13 bytes) fits when the array ends 13 bytes before the
	 * limit (header 24 + key 8 + 11 + array 16 = 59) ... */
	start_file(&b, 0, 2);
	ggufgen_put_str(&b, "abcdefghijk");
	ggufgen_put_u32(&b, 9);
	ggufgen_put_u32(&b, 4);
	ggufgen_put_u64(&b, (GG_GGUF_MAX_HEADER - 59 - 13) / 4);
	assert_int_equal(b.len, 59);
	assert_int_equal(parse_virtual(&b, big, &v, &s), GG_OK);
	assert_int_equal(s.kv_count, 2);
	assert_int_equal(s.data_offset, GG_GGUF_MAX_HEADER);
	ggufgen_buf_free(&b);

	/* ... and not when it ends 12 bytes before (a key one byte longer) */
	start_file(&b, 0, 2);
	ggufgen_put_str(&b, "abcdefghijkl");
	ggufgen_put_u32(&b, 9);
	ggufgen_put_u32(&b, 4);
	ggufgen_put_u64(&b, (GG_GGUF_MAX_HEADER - 59 - 13) / 4);
	assert_int_equal(parse_virtual(&b, big, &v, &s), GG_ETOOBIG);
	assert_int_equal(s.kv_count, 0); /* zeroed on failure */
	ggufgen_buf_free(&b);
}

static void
put_nested(struct ggufgen_buf *b, int depth)
{
	ggufgen_put_str(b, "deep");
	ggufgen_put_u32(b, 9);
	for (int i = 1; i < depth; i++) {
		ggufgen_put_u32(b, 9);
		ggufgen_put_u64(b, 1);
	}
	ggufgen_put_u32(b, 0);
	ggufgen_put_u64(b, 1);
	ggufgen_put_u8(b, 5);
}

static void
test_nesting(void **state)
{
	(void)state;
	struct ggufgen_buf b;
	struct gguf_summary s;

	start_file(&b, 0, 1);
	put_nested(&b, GG_GGUF_MAX_NESTING);
	assert_int_equal(parse_buf(&b, &s), GG_OK);
	ggufgen_buf_free(&b);

	start_file(&b, 0, 1);
	put_nested(&b, GG_GGUF_MAX_NESTING + 1);
	assert_int_equal(parse_buf(&b, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);

	start_file(&b, 0, 1);
	put_nested(&b, 100000);
	assert_int_equal(parse_buf(&b, &s), GG_ETOOBIG);
	ggufgen_buf_free(&b);
}

static void
test_random_flips(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s;
	size_t len;
	uint64_t x = 0x243F6A8885A308D3ull; /* fixed seed: reproducible */
	int ok = 0, errs = 0;

	model_opts(&o, 15);
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &s), GG_OK);
	size_t hdr = (size_t)s.data_offset; /* flips in the data change nothing */
	unsigned char *q = malloc(len);
	assert_non_null(q);
	for (int iter = 0; iter < 4000; iter++) {
		memcpy(q, p, len);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int flips = 1 + (int)(x % 4);
		for (int f = 0; f < flips; f++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t at = (size_t)(x % hdr);
			q[at] ^= (unsigned char)(1u << ((x >> 32) % 8));
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t n = (x % 8 == 0) ? (size_t)(x >> 8) % len : len;
		int rc = gguf_parse_mem(q, n, &s);
		if (rc == GG_OK) {
			check_invariants(&s, n);
			ok++;
		} else {
			assert_true(rc == GG_EFORMAT || rc == GG_ECORRUPT || rc == GG_ETOOBIG);
			errs++;
		}
	}
	/* both outcomes happen: flips in string bytes are harmless */
	assert_true(ok > 100);
	assert_true(errs > 100);
	free(q);
	free(p);
}

/* --- I/O -------------------------------------------------------------- */

static void
test_read_errors_and_short_reads(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	struct gguf_summary s, ref;
	size_t len;

	model_opts(&o, 15);
	o.extra_kvs = GGUFGEN_EXTRA_ALL;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(gguf_parse_mem(p, len, &ref), GG_OK);

	/* one byte per read: same result */
	struct vfile v = { .p = p, .len = len, .size = len, .max_chunk = 1 };
	assert_int_equal(gguf_parse(vread, &v, len, &s), GG_OK);
	assert_string_equal(s.arch, ref.arch);
	assert_string_equal(s.name, ref.name);
	assert_int_equal(s.kv_count, ref.kv_count);
	assert_int_equal(s.param_count, ref.param_count);
	assert_int_equal(s.context_length, ref.context_length);
	assert_int_equal(s.data_offset, ref.data_offset);
	assert_int_equal(s.data_size, ref.data_size);
	unsigned long calls = v.calls;
	assert_true(calls > 100);

	/* a failure on any read is GG_EIO */
	for (unsigned long f = 1; f <= calls; f += 1 + calls / 50) {
		struct vfile w = { .p = p, .len = len, .size = len, .max_chunk = 1, .fail_at = f };
		assert_int_equal(gguf_parse(vread, &w, len, &s), GG_EIO);
	}

	/* the file is shorter than the caller says: corrupt */
	struct vfile u = { .p = p, .len = 100, .size = 100 };
	assert_int_equal(gguf_parse(vread, &u, len, &s), GG_ECORRUPT);
	free(p);
}

static void
test_parse_fd_large(void **state)
{
	(void)state;
	char path[] = "/tmp/test_gguf.XXXXXX";
	struct ggufgen_opts o;
	struct gguf_summary s;
	struct stat st;

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	model_opts(&o, 15);
	o.min_size = (3u << 20) + 5;
	o.seed = 99;
	assert_int_equal(ggufgen_write(path, &o), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_size >= o.min_size);
	assert_true((uint64_t)st.st_size < o.min_size + 64);

	assert_int_equal(gguf_parse_fd(fd, (uint64_t)st.st_size, &s), GG_OK);
	assert_int_equal(s.tensor_count, 7);
	/* the padding tensor: F32 from 4064 (after output's padding) */
	uint64_t pad = s.param_count - 3584;
	assert_int_equal(s.data_size, 4064 + 4 * pad);
	assert_true(s.data_offset + s.data_size >= o.min_size);
	check_invariants(&s, (uint64_t)st.st_size);

	/* the tensor bytes are the seed's */
	unsigned char got[64], want[64];
	assert_int_equal(pread_all(fd, got, sizeof got, s.data_offset + 4064 + 4096), GG_OK);
	ggufgen_fill(99, 4064 + 4096, want, sizeof want);
	assert_memory_equal(got, want, sizeof got);

	/* mem and stream outputs agree */
	size_t len;
	unsigned char *p = gen(&o, &len);
	assert_int_equal(len, (size_t)st.st_size);
	unsigned char *f = malloc(len);
	assert_non_null(f);
	assert_int_equal(pread_all(fd, f, len, 0), GG_OK);
	assert_memory_equal(f, p, len);
	free(f);
	free(p);

	assert_int_equal(gguf_parse_fd(fd, 4000, &s), GG_ECORRUPT);
	assert_int_equal(gguf_parse_fd(-1, (uint64_t)st.st_size, &s), GG_EIO);
	close(fd);
	unlink(path);
}

static void
test_generator_determinism(void **state)
{
	(void)state;
	struct ggufgen_opts o;
	size_t la, lb, lc;

	model_opts(&o, 2);
	unsigned char *a = gen(&o, &la);
	unsigned char *b = gen(&o, &lb);
	o.seed = 8;
	unsigned char *c = gen(&o, &lc);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(la, lc);
	assert_true(memcmp(a, c, la) != 0);
	free(a);
	free(b);
	free(c);

	/* invalid descriptions are refused */
	struct ggufgen_tensor t = { "t", 1, { 33 }, GGUFGEN_Q4_0 };
	o.tensors = &t;
	o.n_tensors = 1;
	assert_null(ggufgen_mem(&o, &la));
	t.dims[0] = 32;
	t.type = 4;
	assert_null(ggufgen_mem(&o, &la));
	t.type = GGUFGEN_Q4_0;
	o.alignment = 48;
	assert_null(ggufgen_mem(&o, &la));
	errno = 0;
	assert_int_equal(ggufgen_write("/tmp/test_gguf.never", &o), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(access("/tmp/test_gguf.never", F_OK), -1);
}

/* --- ftype names ------------------------------------------------------ */

static void
test_ftype_names(void **state)
{
	(void)state;
	static const struct {
		int32_t ft;
		const char *name;
	} t[] = {
		{ 0, "F32" },        { 1, "F16" },     { 2, "Q4_0" },    { 3, "Q4_1" },
		{ 7, "Q8_0" },       { 8, "Q5_0" },    { 9, "Q5_1" },    { 10, "Q2_K" },
		{ 11, "Q3_K_S" },    { 12, "Q3_K_M" }, { 13, "Q3_K_L" }, { 14, "Q4_K_S" },
		{ 15, "Q4_K_M" },    { 16, "Q5_K_S" }, { 17, "Q5_K_M" }, { 18, "Q6_K" },
		{ 19, "IQ2_XXS" },   { 20, "IQ2_XS" }, { 21, "Q2_K_S" }, { 22, "IQ3_XS" },
		{ 23, "IQ3_XXS" },   { 24, "IQ1_S" },  { 25, "IQ4_NL" }, { 26, "IQ3_S" },
		{ 27, "IQ3_M" },     { 28, "IQ2_S" },  { 29, "IQ2_M" },  { 30, "IQ4_XS" },
		{ 31, "IQ1_M" },     { 32, "BF16" },   { 36, "TQ1_0" },  { 37, "TQ2_0" },
		{ 38, "MXFP4_MOE" },
	};
	size_t n = sizeof t / sizeof t[0];
	for (size_t i = 0; i < n; i++) {
		char lower[24];
		assert_non_null(gguf_ftype_name(t[i].ft));
		assert_string_equal(gguf_ftype_name(t[i].ft), t[i].name);
		assert_int_equal(gguf_ftype_from_name(t[i].name), t[i].ft);
		size_t k = 0;
		for (; t[i].name[k]; k++)
			lower[k] = (char)(t[i].name[k] >= 'A' && t[i].name[k] <= 'Z'
						  ? t[i].name[k] + 32
						  : t[i].name[k]);
		lower[k] = '\0';
		assert_int_equal(gguf_ftype_from_name(lower), t[i].ft);
	}
	/* everything else has no name */
	for (int32_t ft = -2; ft < 300; ft++) {
		int known = 0;
		for (size_t i = 0; i < n; i++)
			known |= t[i].ft == ft;
		if (!known)
			assert_null(gguf_ftype_name(ft));
	}
	assert_null(gguf_ftype_name(INT32_MAX));
	assert_null(gguf_ftype_name(INT32_MIN));
	assert_int_equal(gguf_ftype_from_name("Q4_K"), -1);
	assert_int_equal(gguf_ftype_from_name("Q4_K_M "), -1);
	assert_int_equal(gguf_ftype_from_name(""), -1);
	assert_int_equal(gguf_ftype_from_name("Q4_K_MX"), -1);
	assert_int_equal(gguf_ftype_from_name(NULL), -1);
}

/* Split set names as llama.cpp's gguf-split writes them, and near misses. */
static void
test_split_names(void **state)
{
	static const struct {
		const char *path;
		int ok;
		unsigned index, count;
		size_t prefix;
	} t[] = {
		{ "model-00001-of-00003.gguf", 1, 1, 3, 5 },
		{ "model-00003-of-00003.gguf", 1, 3, 3, 5 },
		{ "Q4_K_M/ruvltra-7b-q4_k_m-00002-of-00010.gguf", 1, 2, 10, 24 },
		{ "x-00001-of-00001.gguf", 1, 1, 1, 1 },
		{ "a-99999-of-99999.GGUF", 1, 99999, 99999, 1 },
		{ "model-00004-of-00003.gguf", 0, 0, 0, 0 }, /* beyond the count */
		{ "model-00000-of-00003.gguf", 0, 0, 0, 0 }, /* shards count from 1 */
		{ "model-00000-of-00000.gguf", 0, 0, 0, 0 },
		{ "model-0001-of-00003.gguf", 0, 0, 0, 0 },    /* four digits */
		{ "model-000001-of-000003.gguf", 0, 0, 0, 0 }, /* six */
		{ "model-00001-of-0003.gguf", 0, 0, 0, 0 },
		{ "model-00001-of-00003.bin", 0, 0, 0, 0 },
		{ "model-00001-of-00003.gguf.part", 0, 0, 0, 0 },
		{ "model_00001-of-00003.gguf", 0, 0, 0, 0 },
		{ "model-00001_of-00003.gguf", 0, 0, 0, 0 },
		{ "model-0000a-of-00003.gguf", 0, 0, 0, 0 },
		{ "model-00001-of-0000 3.gguf", 0, 0, 0, 0 },
		{ "-00001-of-00003.gguf", 0, 0, 0, 0 }, /* no prefix */
		{ "dir/-00001-of-00003.gguf", 0, 0, 0, 0 },
		{ "model.gguf", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned idx = 777, cnt = 777;
		size_t pl = 777;
		int rc = gguf_split_name(t[i].path, &idx, &cnt, &pl);
		if (!t[i].ok) {
			assert_int_equal(rc, GG_EINVAL);
			assert_int_equal(idx, 777); /* left alone */
			assert_int_equal(cnt, 777);
			assert_int_equal(pl, 777);
			continue;
		}
		assert_int_equal(rc, GG_OK);
		assert_int_equal(idx, t[i].index);
		assert_int_equal(cnt, t[i].count);
		assert_int_equal(pl, t[i].prefix);
	}
	{
		unsigned idx, cnt;
		assert_int_equal(gguf_split_name("m-00002-of-00002.gguf", &idx, &cnt, NULL), GG_OK);
		assert_int_equal(idx, 2);
		assert_int_equal(gguf_split_name(NULL, &idx, &cnt, NULL), GG_EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3_q4_k_m),
		cmocka_unit_test(test_v2_q8_0_extras),
		cmocka_unit_test(test_every_ftype),
		cmocka_unit_test(test_ggml_type_sizes),
		cmocka_unit_test(test_arch_after_context),
		cmocka_unit_test(test_context_int_types),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_no_tensors),
		cmocka_unit_test(test_strings_in_summary),
		cmocka_unit_test(test_wrong_types_and_duplicates),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_bad_value_types),
		cmocka_unit_test(test_bad_tensor_types),
		cmocka_unit_test(test_tensor_dims),
		cmocka_unit_test(test_tensor_offsets),
		cmocka_unit_test(test_element_count_overflow),
		cmocka_unit_test(test_param_count_overflow),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_random_flips),
		cmocka_unit_test(test_read_errors_and_short_reads),
		cmocka_unit_test(test_parse_fd_large),
		cmocka_unit_test(test_generator_determinism),
		cmocka_unit_test(test_ftype_names),
		cmocka_unit_test(test_split_names),
		cmocka_unit_test(test_find_text),
	};
	return cmocka_run_group_tests_name("gguf", tests, NULL, NULL);
}
