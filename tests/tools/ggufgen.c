/*
 * ggufgen.c: builds valid GGUF files for tests.  See ggufgen.h.
 *
 * The header (key/value pairs, tensor infos and the padding after them) is
 * built in memory: it is small.  Tensor data is produced on the fly from
 * the seed, so ggufgen_write can stream a file of any size through a
 * 64 KiB buffer.  The layout is computed in one place (build_header) and
 * both outputs use it, so ggufgen_mem and ggufgen_write give the same
 * bytes.
 *
 *   header | kvs | tensor infos | pad | t0 | pad | t1 | pad | ... | tN | pad
 *                                     ^ data_offset, every ti aligned
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ggufgen.h"

#define GEN_CHUNK (64u * 1024)
#define GEN_VOCAB 64
#define GEN_PAD_NAME "ggufgen.padding"
#define GEN_DEF_ALIGN 32u

/* The same table as gguf.c, kept separately so a mistake in one is caught
 * by the other rather than shared. */
static const struct {
	uint16_t block, size;
} gen_types[] = {
	[0] = { 1, 4 },      [1] = { 1, 2 },      [2] = { 32, 18 },    [3] = { 32, 20 },
	[6] = { 32, 22 },    [7] = { 32, 24 },    [8] = { 32, 34 },    [9] = { 32, 36 },
	[10] = { 256, 84 },  [11] = { 256, 110 }, [12] = { 256, 144 }, [13] = { 256, 176 },
	[14] = { 256, 210 }, [15] = { 256, 292 }, [16] = { 256, 66 },  [17] = { 256, 74 },
	[18] = { 256, 98 },  [19] = { 256, 50 },  [20] = { 32, 18 },   [21] = { 256, 110 },
	[22] = { 256, 82 },  [23] = { 256, 136 }, [24] = { 1, 1 },     [25] = { 1, 2 },
	[26] = { 1, 4 },     [27] = { 1, 8 },     [28] = { 1, 8 },     [29] = { 256, 56 },
	[30] = { 1, 2 },     [34] = { 256, 54 },  [35] = { 256, 66 },  [39] = { 32, 17 },
};

static void *
gen_alloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL) {
		fprintf(stderr, "ggufgen: realloc(%zu) failed: out of memory\n", n);
		abort();
	}
	return q;
}

void
ggufgen_put_bytes(struct ggufgen_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		b->data = gen_alloc(b->data, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
ggufgen_put_zeros(struct ggufgen_buf *b, size_t n)
{
	static const unsigned char zero[64];
	while (n > 0) {
		size_t k = n < sizeof zero ? n : sizeof zero;
		ggufgen_put_bytes(b, zero, k);
		n -= k;
	}
}

static void
put_le(struct ggufgen_buf *b, uint64_t v, size_t n)
{
	unsigned char x[8];
	for (size_t i = 0; i < n; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	ggufgen_put_bytes(b, x, n);
}

void
ggufgen_put_u8(struct ggufgen_buf *b, uint8_t v)
{
	put_le(b, v, 1);
}
void
ggufgen_put_u16(struct ggufgen_buf *b, uint16_t v)
{
	put_le(b, v, 2);
}
void
ggufgen_put_u32(struct ggufgen_buf *b, uint32_t v)
{
	put_le(b, v, 4);
}
void
ggufgen_put_u64(struct ggufgen_buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void
ggufgen_put_str(struct ggufgen_buf *b, const char *s)
{
	size_t n = strlen(s);
	ggufgen_put_u64(b, n);
	ggufgen_put_bytes(b, s, n);
}

static void
patch_le(struct ggufgen_buf *b, size_t off, uint64_t v, size_t n)
{
	if (off > b->len || n > b->len - off) {
		fprintf(stderr, "ggufgen: patch at %zu outside %zu bytes\n", off, b->len);
		abort();
	}
	for (size_t i = 0; i < n; i++)
		b->data[off + i] = (unsigned char)(v >> (8 * i));
}

void
ggufgen_patch_u32(struct ggufgen_buf *b, size_t off, uint32_t v)
{
	patch_le(b, off, v, 4);
}
void
ggufgen_patch_u64(struct ggufgen_buf *b, size_t off, uint64_t v)
{
	patch_le(b, off, v, 8);
}

void
ggufgen_buf_free(struct ggufgen_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
ggufgen_defaults(struct ggufgen_opts *o)
{
	memset(o, 0, sizeof *o);
	o->version = 3;
	o->arch = "llama";
	o->file_type = -1;
}

int
ggufgen_type_info(uint32_t type, uint32_t *block, uint32_t *size)
{
	if (type >= sizeof gen_types / sizeof gen_types[0] || gen_types[type].block == 0)
		return -1;
	*block = gen_types[type].block;
	*size = gen_types[type].size;
	return 0;
}

int32_t
ggufgen_ftype_tensor_type(int32_t ftype)
{
	static const struct {
		int32_t ftype, type;
	} map[] = {
		{ 0, 0 },   { 1, 1 },   { 2, 2 },   { 3, 3 },   { 7, 8 },   { 8, 6 },   { 9, 7 },
		{ 10, 10 }, { 11, 11 }, { 12, 11 }, { 13, 11 }, { 14, 12 }, { 15, 12 }, { 16, 13 },
		{ 17, 13 }, { 18, 14 }, { 19, 16 }, { 20, 17 }, { 21, 10 }, { 22, 21 }, { 23, 18 },
		{ 24, 19 }, { 25, 20 }, { 26, 21 }, { 27, 21 }, { 28, 22 }, { 29, 22 }, { 30, 23 },
		{ 31, 29 }, { 32, 30 }, { 36, 34 }, { 37, 35 }, { 38, 39 },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].ftype == ftype)
			return map[i].type;
	return -1;
}

size_t
ggufgen_default_tensors(int32_t ftype, struct ggufgen_tensor *out, size_t cap)
{
	int32_t t = ggufgen_ftype_tensor_type(ftype);
	uint32_t w = t < 0 ? GGUFGEN_F32 : (uint32_t)t;
	int kquant = (ftype >= 10 && ftype <= 18) || ftype == 21;
	const struct ggufgen_tensor def[GGUFGEN_DEFAULT_TENSORS] = {
		{ "token_embd.weight", 2, { 256, 4 }, w },
		{ "blk.0.attn_norm.weight", 1, { 256 }, GGUFGEN_F32 },
		{ "blk.0.attn_q.weight", 2, { 256, 2 }, w },
		{ "blk.0.ffn_down.weight", 2, { 256, 2 }, w },
		{ "output_norm.weight", 1, { 256 }, GGUFGEN_F32 },
		{ "output.weight", 2, { 256, 4 }, kquant ? GGUFGEN_Q6_K : w },
	};
	size_t n = cap < GGUFGEN_DEFAULT_TENSORS ? cap : GGUFGEN_DEFAULT_TENSORS;
	memcpy(out, def, n * sizeof def[0]);
	return n;
}

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

void
ggufgen_fill(uint32_t seed, uint64_t off, unsigned char *dst, size_t n)
{
	uint64_t base = (uint64_t)seed << 32;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = off + i;
		dst[i] = (unsigned char)(splitmix64(base ^ (k >> 3)) >> (8 * (k & 7)));
	}
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Element and byte counts of a tensor: 0, or -1 if it is not valid. */
static int
tensor_size(const struct ggufgen_tensor *t, uint64_t *nelem, uint64_t *nbytes)
{
	uint32_t block, size;
	uint64_t n = 1;
	if (t->n_dims < 1 || t->n_dims > 4 || ggufgen_type_info(t->type, &block, &size) != 0)
		return -1;
	for (uint32_t d = 0; d < t->n_dims; d++) {
		if (t->dims[d] == 0 || t->dims[d] > (UINT64_C(1) << 62) / n)
			return -1;
		n *= t->dims[d];
	}
	if (t->dims[0] % block != 0)
		return -1;
	*nelem = n;
	*nbytes = n / block * size;
	return 0;
}

static void
kv_key(struct ggufgen_buf *b, const char *key, uint32_t type)
{
	ggufgen_put_str(b, key);
	ggufgen_put_u32(b, type);
}

/* The tokenizer pairs; returns how many it wrote. */
static uint64_t
put_tokenizer(struct ggufgen_buf *b)
{
	char tok[32];
	kv_key(b, "tokenizer.ggml.model", 8);
	ggufgen_put_str(b, "llama");
	kv_key(b, "tokenizer.ggml.tokens", 9);
	ggufgen_put_u32(b, 8);
	ggufgen_put_u64(b, GEN_VOCAB);
	for (int i = 0; i < GEN_VOCAB; i++) {
		if (i < 3) {
			static const char *const special[] = { "<unk>", "<s>", "</s>" };
			ggufgen_put_str(b, special[i]);
			continue;
		}
		int n = snprintf(tok, sizeof tok, "tok%d", i);
		if (n < 0 || (size_t)n >= sizeof tok)
			abort();
		ggufgen_put_str(b, tok);
	}
	kv_key(b, "tokenizer.ggml.scores", 9);
	ggufgen_put_u32(b, 6);
	ggufgen_put_u64(b, GEN_VOCAB);
	for (int i = 0; i < GEN_VOCAB; i++) {
		float f = -(float)i;
		uint32_t bits;
		memcpy(&bits, &f, sizeof bits);
		ggufgen_put_u32(b, bits);
	}
	kv_key(b, "tokenizer.ggml.token_type", 9);
	ggufgen_put_u32(b, 5);
	ggufgen_put_u64(b, GEN_VOCAB);
	for (int i = 0; i < GEN_VOCAB; i++)
		ggufgen_put_u32(b, i < 3 ? 3u : 1u);
	kv_key(b, "tokenizer.ggml.bos_token_id", 4);
	ggufgen_put_u32(b, 1);
	kv_key(b, "tokenizer.ggml.eos_token_id", 4);
	ggufgen_put_u32(b, 2);
	return 6;
}

static uint64_t
put_scalars(struct ggufgen_buf *b)
{
	double d = 3.25;
	float f = 1.5f;
	uint64_t dbits;
	uint32_t fbits;
	memcpy(&dbits, &d, sizeof dbits);
	memcpy(&fbits, &f, sizeof fbits);

	kv_key(b, "ggufgen.u8", 0), ggufgen_put_u8(b, 200);
	kv_key(b, "ggufgen.i8", 1), ggufgen_put_u8(b, (uint8_t)-5);
	kv_key(b, "ggufgen.u16", 2), ggufgen_put_u16(b, 60000);
	kv_key(b, "ggufgen.i16", 3), ggufgen_put_u16(b, (uint16_t)-300);
	kv_key(b, "ggufgen.u32", 4), ggufgen_put_u32(b, 4000000000u);
	kv_key(b, "ggufgen.i32", 5), ggufgen_put_u32(b, (uint32_t)-70000);
	kv_key(b, "ggufgen.f32", 6), ggufgen_put_u32(b, fbits);
	kv_key(b, "ggufgen.bool", 7), ggufgen_put_u8(b, 1);
	kv_key(b, "ggufgen.string", 8), ggufgen_put_str(b, "hello, gguf");
	kv_key(b, "ggufgen.u64", 10), ggufgen_put_u64(b, UINT64_C(1) << 40);
	kv_key(b, "ggufgen.i64", 11), ggufgen_put_u64(b, (uint64_t)INT64_C(-1));
	kv_key(b, "ggufgen.f64", 12), ggufgen_put_u64(b, dbits);
	kv_key(b, "ggufgen.empty_string", 8), ggufgen_put_str(b, "");
	kv_key(b, "ggufgen.empty_array", 9);
	ggufgen_put_u32(b, 0);
	ggufgen_put_u64(b, 0);
	return 14;
}

static uint64_t
put_nested(struct ggufgen_buf *b)
{
	/* [[], [7], [8, 9]] of u16 */
	kv_key(b, "ggufgen.nested", 9);
	ggufgen_put_u32(b, 9);
	ggufgen_put_u64(b, 3);
	for (uint16_t i = 0; i < 3; i++) {
		ggufgen_put_u32(b, 2);
		ggufgen_put_u64(b, i);
		for (uint16_t j = 0; j < i; j++)
			ggufgen_put_u16(b, (uint16_t)(6 + i + j));
	}
	/* [["a", "bc"], ["def"]] */
	kv_key(b, "ggufgen.nested_strings", 9);
	ggufgen_put_u32(b, 9);
	ggufgen_put_u64(b, 2);
	ggufgen_put_u32(b, 8);
	ggufgen_put_u64(b, 2);
	ggufgen_put_str(b, "a");
	ggufgen_put_str(b, "bc");
	ggufgen_put_u32(b, 8);
	ggufgen_put_u64(b, 1);
	ggufgen_put_str(b, "def");
	/* [[[[42]]]]: GGUFGEN_MAX_DEPTH arrays, the innermost of one u32. */
	kv_key(b, "ggufgen.deep", 9);
	for (int i = 1; i < GGUFGEN_MAX_DEPTH; i++) {
		ggufgen_put_u32(b, 9);
		ggufgen_put_u64(b, 1);
	}
	ggufgen_put_u32(b, 4);
	ggufgen_put_u64(b, 1);
	ggufgen_put_u32(b, 42);
	return 3;
}

/*
 * Builds everything up to data_offset into b and fills l.  With
 * pad_elems > 0 the padding tensor of that many F32 elements is appended.
 * offs[] (n_tensors + 1 entries) receives each tensor's data offset and
 * sizes[] its byte count.  Returns 0, or -1 if o is invalid.
 */
static int
build_header(const struct ggufgen_opts *o, uint64_t pad_elems, struct ggufgen_buf *b,
	     struct ggufgen_layout *l, uint64_t *offs, uint64_t *sizes)
{
	struct ggufgen_buf kv = { 0 };
	uint32_t align = o->alignment ? o->alignment : GEN_DEF_ALIGN;
	uint64_t n_kv = 0, off = 0, params = 0;
	size_t n_t = o->n_tensors + (pad_elems > 0);
	int rc = -1;

	memset(l, 0, sizeof *l);
	if ((align & (align - 1)) != 0 || (o->n_tensors > 0 && o->tensors == NULL))
		goto fail;

	if (o->arch != NULL && !o->arch_last) {
		kv_key(&kv, "general.architecture", 8);
		ggufgen_put_str(&kv, o->arch);
		n_kv++;
	}
	if (o->name != NULL) {
		kv_key(&kv, "general.name", 8);
		ggufgen_put_str(&kv, o->name);
		n_kv++;
	}
	if (o->file_type >= 0) {
		kv_key(&kv, "general.file_type", 4);
		ggufgen_put_u32(&kv, (uint32_t)o->file_type);
		n_kv++;
	}
	if (o->alignment != 0) {
		kv_key(&kv, "general.alignment", 4);
		ggufgen_put_u32(&kv, o->alignment);
		n_kv++;
	}
	if (o->context_length != 0 && o->arch != NULL) {
		char key[256];
		int n = snprintf(key, sizeof key, "%s.context_length", o->arch);
		if (n < 0 || (size_t)n >= sizeof key)
			goto fail;
		if (o->context_length <= UINT32_MAX) {
			kv_key(&kv, key, 4);
			ggufgen_put_u32(&kv, (uint32_t)o->context_length);
		} else {
			kv_key(&kv, key, 10);
			ggufgen_put_u64(&kv, o->context_length);
		}
		n_kv++;
	}
	if (o->extra_kvs & GGUFGEN_EXTRA_TOKENIZER)
		n_kv += put_tokenizer(&kv);
	if (o->extra_kvs & GGUFGEN_EXTRA_SCALARS)
		n_kv += put_scalars(&kv);
	if (o->extra_kvs & GGUFGEN_EXTRA_NESTED)
		n_kv += put_nested(&kv);
	for (size_t i = 0; i < o->n_text_kvs; i++) {
		const char *eq = strchr(o->text_kvs[i], '=');
		char key[256];
		int n;
		if (eq == NULL || eq == o->text_kvs[i] ||
		    (n = snprintf(key, sizeof key, "%.*s", (int)(eq - o->text_kvs[i]),
				  o->text_kvs[i])) < 0 ||
		    (size_t)n >= sizeof key)
			goto fail;
		if (strncmp(eq + 1, "u32:", 4) == 0) {
			kv_key(&kv, key, 4);
			ggufgen_put_u32(&kv, (uint32_t)strtoul(eq + 5, NULL, 10));
		} else if (strchr(eq + 1, ',') == NULL) {
			kv_key(&kv, key, 8);
			ggufgen_put_str(&kv, eq + 1);
		} else {
			uint64_t count = 1;
			for (const char *c = eq + 1; *c; c++)
				count += *c == ',';
			kv_key(&kv, key, 9);
			ggufgen_put_u32(&kv, 8);
			ggufgen_put_u64(&kv, count);
			for (const char *c = eq + 1;;) {
				const char *e = strchr(c, ',');
				size_t len = e ? (size_t)(e - c) : strlen(c);
				ggufgen_put_u64(&kv, len);
				ggufgen_put_bytes(&kv, c, len);
				if (e == NULL)
					break;
				c = e + 1;
			}
		}
		n_kv++;
	}
	if (o->arch != NULL && o->arch_last) {
		kv_key(&kv, "general.architecture", 8);
		ggufgen_put_str(&kv, o->arch);
		n_kv++;
	}

	ggufgen_put_bytes(b, "GGUF", 4);
	ggufgen_put_u32(b, o->version ? o->version : 3);
	ggufgen_put_u64(b, n_t);
	ggufgen_put_u64(b, n_kv);
	ggufgen_put_bytes(b, kv.data, kv.len);

	for (size_t i = 0; i < n_t; i++) {
		struct ggufgen_tensor pad = { GEN_PAD_NAME, 1, { pad_elems }, GGUFGEN_F32 };
		const struct ggufgen_tensor *t = i < o->n_tensors ? &o->tensors[i] : &pad;
		uint64_t nelem, nbytes;
		if (t->name == NULL || tensor_size(t, &nelem, &nbytes) != 0)
			goto fail;
		ggufgen_put_str(b, t->name);
		ggufgen_put_u32(b, t->n_dims);
		for (uint32_t d = 0; d < t->n_dims; d++)
			ggufgen_put_u64(b, t->dims[d]);
		ggufgen_put_u32(b, t->type);
		ggufgen_put_u64(b, off);
		offs[i] = off;
		sizes[i] = nbytes;
		l->data_size = off + nbytes;
		off = align_up(off + nbytes, align);
		params += nelem;
	}

	l->kv_count = n_kv;
	l->tensor_count = n_t;
	l->param_count = params;
	l->header_len = b->len;
	l->data_offset = align_up(b->len, align);
	l->file_size = l->data_offset + off;
	ggufgen_put_zeros(b, (size_t)(l->data_offset - b->len));
	rc = 0;
fail:
	ggufgen_buf_free(&kv);
	return rc;
}

/* The header, with the padding tensor if min_size asks for one. */
static int
plan(const struct ggufgen_opts *o, struct ggufgen_buf *b, struct ggufgen_layout *l, uint64_t **offs,
     uint64_t **sizes)
{
	*offs = gen_alloc(NULL, (o->n_tensors + 1) * sizeof **offs);
	*sizes = gen_alloc(NULL, (o->n_tensors + 1) * sizeof **sizes);
	if (build_header(o, 0, b, l, *offs, *sizes) != 0)
		return -1;
	if (o->min_size <= l->file_size)
		return 0;

	/* The padding tensor's info grows the header, but not with its size,
	 * so a header with a one-element placeholder gives its offset. */
	b->len = 0;
	if (build_header(o, 1, b, l, *offs, *sizes) != 0)
		return -1;
	uint64_t start = l->data_offset + (*offs)[o->n_tensors];
	uint64_t elems = o->min_size > start ? (o->min_size - start + 3) / 4 : 1;
	b->len = 0;
	return build_header(o, elems, b, l, *offs, *sizes);
}

int
ggufgen_layout(const struct ggufgen_opts *o, struct ggufgen_layout *l)
{
	struct ggufgen_buf b = { 0 };
	uint64_t *offs = NULL, *sizes = NULL;
	int rc = plan(o, &b, l, &offs, &sizes);
	free(sizes);
	free(offs);
	ggufgen_buf_free(&b);
	return rc;
}

/*
 * Emits the data section [0, data_end) in chunks through emit(); tensor
 * bytes come from ggufgen_fill, the gaps are zero.
 */
static int
emit_data(const struct ggufgen_opts *o, const struct ggufgen_layout *l, const uint64_t *offs,
	  const uint64_t *sizes, int (*emit)(void *, const unsigned char *, size_t), void *ctx)
{
	unsigned char *chunk = gen_alloc(NULL, GEN_CHUNK);
	uint64_t pos = 0, end = l->file_size - l->data_offset;
	size_t t = 0;
	int rc = -1;

	while (pos < end) {
		size_t n = end - pos < GEN_CHUNK ? (size_t)(end - pos) : GEN_CHUNK;
		memset(chunk, 0, n);
		/* Tensors are in offset order; fill the parts inside [pos, pos+n). */
		for (size_t i = t; i < l->tensor_count && offs[i] < pos + n; i++) {
			uint64_t a = offs[i] > pos ? offs[i] : pos;
			uint64_t z = offs[i] + sizes[i] < pos + n ? offs[i] + sizes[i] : pos + n;
			if (a < z)
				ggufgen_fill(o->seed, a, chunk + (a - pos), (size_t)(z - a));
			if (offs[i] + sizes[i] <= pos + n && i == t)
				t++;
		}
		if (emit(ctx, chunk, n) != 0)
			goto fail;
		pos += n;
	}
	rc = 0;
fail:
	free(chunk);
	return rc;
}

static int
emit_buf(void *ctx, const unsigned char *p, size_t n)
{
	ggufgen_put_bytes(ctx, p, n);
	return 0;
}

static int
emit_file(void *ctx, const unsigned char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

unsigned char *
ggufgen_mem(const struct ggufgen_opts *o, size_t *len)
{
	struct ggufgen_buf b = { 0 };
	struct ggufgen_layout l;
	uint64_t *offs = NULL, *sizes = NULL;
	unsigned char *out = NULL;

	if (plan(o, &b, &l, &offs, &sizes) != 0 || l.file_size > SIZE_MAX / 2)
		goto fail;
	if (emit_data(o, &l, offs, sizes, emit_buf, &b) != 0)
		goto fail;
	out = b.data;
	*len = b.len;
	b.data = NULL;
fail:
	free(sizes);
	free(offs);
	ggufgen_buf_free(&b);
	return out;
}

int
ggufgen_write(const char *path, const struct ggufgen_opts *o)
{
	struct ggufgen_buf b = { 0 };
	struct ggufgen_layout l;
	uint64_t *offs = NULL, *sizes = NULL;
	FILE *f = NULL;
	int rc = -1, saved = EINVAL, created = 0;

	if (plan(o, &b, &l, &offs, &sizes) != 0)
		goto fail;
	if ((f = fopen(path, "wb")) == NULL) {
		saved = errno;
		goto fail;
	}
	created = 1;
	errno = 0;
	if (fwrite(b.data, 1, b.len, f) != b.len ||
	    emit_data(o, &l, offs, sizes, emit_file, f) != 0) {
		saved = errno ? errno : EIO;
		goto fail;
	}
	FILE *done = f;
	f = NULL;
	errno = 0;
	if (fclose(done) != 0) {
		saved = errno ? errno : EIO;
		goto fail;
	}
	rc = 0;
fail:
	if (f != NULL)
		fclose(f);
	if (rc != 0 && created)
		unlink(path);
	free(sizes);
	free(offs);
	ggufgen_buf_free(&b);
	if (rc != 0)
		errno = saved;
	return rc;
}
