/*
 * gguf.c: a bounded, hostile-input-safe GGUF header parser.  See gguf.h.
 *
 * The store calls this on every GGUF file it takes in, and the file may
 * come from anyone, so the parser treats every byte as hostile.  The wire
 * format it walks (all integers little-endian):
 *
 *   +------+---------+--------------+----------+
 *   | GGUF | u32 ver | u64 n_tensor | u64 n_kv |   ver is 2 or 3
 *   +------+---------+--------------+----------+
 *   n_kv times:     string key | u32 type | value
 *   n_tensor times: string name | u32 n_dims | u64 dims[n_dims]
 *                   | u32 ggml_type | u64 offset (from data start)
 *   zero padding up to general.alignment (default 32)
 *   tensor data  <- data_offset; each tensor at data_offset + offset
 *
 *   string = u64 len | len bytes (no NUL)
 *   value  = a scalar of 1, 2, 4 or 8 bytes | string
 *          | u32 elem_type | u64 count | count values of elem_type
 *
 * Invariants the code keeps:
 * - Memory is one 64 KiB read window and a few fixed buffers, whatever the
 *   counts and lengths in the file say.  Nothing is allocated per element.
 * - Every count and length is checked against its GG_GGUF_* limit before
 *   it is used, and every skip against the bytes left in the header
 *   region (min(file_size, GG_GGUF_MAX_HEADER)), so the parser consumes at
 *   least one byte per loop iteration and always terminates.
 * - Array elements of fixed size are skipped arithmetically, never read;
 *   strings inside arrays are stepped over one length at a time.
 * - *out is written once, on success; on failure it is left zeroed.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gguf.h"
#include "gg_limits.h"
#include "util.h"

#define GGUF_WINDOW (64u * 1024) /* read window, bytes */
#define GGUF_DEFAULT_ALIGN 32u
#define GGUF_KEY_KEEP 96 /* longest key we ever need to compare */
#define GGUF_CTX_CANDS 8 /* {arch}.context_length seen before the arch */
#define GGUF_CTX_SUFFIX ".context_length"

enum gguf_type {
	GGUF_UINT8 = 0,
	GGUF_INT8 = 1,
	GGUF_UINT16 = 2,
	GGUF_INT16 = 3,
	GGUF_UINT32 = 4,
	GGUF_INT32 = 5,
	GGUF_FLOAT32 = 6,
	GGUF_BOOL = 7,
	GGUF_STRING = 8,
	GGUF_ARRAY = 9,
	GGUF_UINT64 = 10,
	GGUF_INT64 = 11,
	GGUF_FLOAT64 = 12,
	GGUF_TYPE_COUNT
};

/* Size in bytes of each scalar value type; 0 for string and array. */
static const uint8_t gguf_scalar_size[GGUF_TYPE_COUNT] = {
	[GGUF_UINT8] = 1,   [GGUF_INT8] = 1,  [GGUF_UINT16] = 2,  [GGUF_INT16] = 2,
	[GGUF_UINT32] = 4,  [GGUF_INT32] = 4, [GGUF_FLOAT32] = 4, [GGUF_BOOL] = 1,
	[GGUF_STRING] = 0,  [GGUF_ARRAY] = 0, [GGUF_UINT64] = 8,  [GGUF_INT64] = 8,
	[GGUF_FLOAT64] = 8,
};

/*
 * ggml tensor types: elements per block and bytes per block.  Ids with no
 * entry (4, 5, 31-33, 36-38: removed or never assigned) are refused.
 */
struct ggml_type_info {
	uint16_t block;
	uint16_t size;
};

static const struct ggml_type_info ggml_types[] = {
	[0] = { 1, 4 },      /* F32 */
	[1] = { 1, 2 },      /* F16 */
	[2] = { 32, 18 },    /* Q4_0 */
	[3] = { 32, 20 },    /* Q4_1 */
	[6] = { 32, 22 },    /* Q5_0 */
	[7] = { 32, 24 },    /* Q5_1 */
	[8] = { 32, 34 },    /* Q8_0 */
	[9] = { 32, 36 },    /* Q8_1 */
	[10] = { 256, 84 },  /* Q2_K */
	[11] = { 256, 110 }, /* Q3_K */
	[12] = { 256, 144 }, /* Q4_K */
	[13] = { 256, 176 }, /* Q5_K */
	[14] = { 256, 210 }, /* Q6_K */
	[15] = { 256, 292 }, /* Q8_K */
	[16] = { 256, 66 },  /* IQ2_XXS */
	[17] = { 256, 74 },  /* IQ2_XS */
	[18] = { 256, 98 },  /* IQ3_XXS */
	[19] = { 256, 50 },  /* IQ1_S */
	[20] = { 32, 18 },   /* IQ4_NL */
	[21] = { 256, 110 }, /* IQ3_S */
	[22] = { 256, 82 },  /* IQ2_S */
	[23] = { 256, 136 }, /* IQ4_XS */
	[24] = { 1, 1 },     /* I8 */
	[25] = { 1, 2 },     /* I16 */
	[26] = { 1, 4 },     /* I32 */
	[27] = { 1, 8 },     /* I64 */
	[28] = { 1, 8 },     /* F64 */
	[29] = { 256, 56 },  /* IQ1_M */
	[30] = { 1, 2 },     /* BF16 */
	[34] = { 256, 54 },  /* TQ1_0 */
	[35] = { 256, 66 },  /* TQ2_0 */
	[39] = { 32, 17 },   /* MXFP4 */
};

#define GGML_TYPE_MAX ((uint32_t)(sizeof(ggml_types) / sizeof(ggml_types[0])))

/* llama.cpp's LLAMA_FTYPE values and the names quantizers put in file names. */
static const struct {
	int32_t ftype;
	const char *name;
} ftype_names[] = {
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

#define N_FTYPES (sizeof(ftype_names) / sizeof(ftype_names[0]))

/*
 * The bounded reader.  pos is the next header byte the parser consumes;
 * [win_off, win_off + win_len) is what the window holds.  pos never passes
 * limit, which is the end of the file or GG_GGUF_MAX_HEADER, whichever is
 * first.
 */
struct reader {
	gguf_read_fn read;
	void *ctx;
	uint64_t file_size;
	uint64_t limit;
	uint64_t pos;
	unsigned char *win;
	uint64_t win_off;
	size_t win_len;
};

/* The error for a field that would run past the header region. */
static int
rd_overrun(const struct reader *r)
{
	return r->file_size <= GG_GGUF_MAX_HEADER ? GG_ECORRUPT : GG_ETOOBIG;
}

/* Makes [pos, pos + need) present in the window; need <= GGUF_WINDOW. */
static int
rd_fill(struct reader *r, size_t need)
{
	if (need > r->limit - r->pos)
		return rd_overrun(r);
	if (r->pos >= r->win_off && r->pos - r->win_off + need <= r->win_len)
		return GG_OK;

	uint64_t avail = r->limit - r->pos;
	size_t want = avail < GGUF_WINDOW ? (size_t)avail : GGUF_WINDOW;
	size_t got = 0;
	r->win_len = 0;
	r->win_off = r->pos;
	while (got < need) {
		long n = r->read(r->ctx, r->win + got, want - got, r->pos + got);
		if (n < 0 || (unsigned long)n > want - got)
			return GG_EIO;
		if (n == 0)
			return GG_ECORRUPT; /* shorter than the caller said */
		got += (size_t)n;
	}
	r->win_len = got;
	return GG_OK;
}

/* Copies the next n (<= GGUF_WINDOW) bytes to dst and consumes them. */
static int
rd_bytes(struct reader *r, void *dst, size_t n)
{
	int err = rd_fill(r, n);
	if (err != GG_OK)
		return err;
	memcpy(dst, r->win + (r->pos - r->win_off), n);
	r->pos += n;
	return GG_OK;
}

/* Consumes n bytes without reading them. */
static int
rd_skip(struct reader *r, uint64_t n)
{
	if (n > r->limit - r->pos)
		return rd_overrun(r);
	r->pos += n;
	return GG_OK;
}

static uint64_t
le_get(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

static int
rd_u32(struct reader *r, uint32_t *v)
{
	unsigned char b[4];
	int err = rd_bytes(r, b, sizeof b);
	if (err == GG_OK)
		*v = (uint32_t)le_get(b, sizeof b);
	return err;
}

static int
rd_u64(struct reader *r, uint64_t *v)
{
	unsigned char b[8];
	int err = rd_bytes(r, b, sizeof b);
	if (err == GG_OK)
		*v = le_get(b, sizeof b);
	return err;
}

/*
 * Reads a GGUF string of at most max bytes: its first min(len, keep_cap)
 * bytes go to keep (keep_cap <= GGUF_WINDOW), the rest is skipped.
 */
static int
rd_string(struct reader *r, uint64_t max, unsigned char *keep, size_t keep_cap, uint64_t *len)
{
	uint64_t n;
	int err = rd_u64(r, &n);
	if (err != GG_OK)
		return err;
	if (n > max)
		return GG_ETOOBIG;
	size_t take = n < keep_cap ? (size_t)n : keep_cap;
	if (take > 0 && (err = rd_bytes(r, keep, take)) != GG_OK)
		return err;
	if ((err = rd_skip(r, n - take)) != GG_OK)
		return err;
	*len = n;
	return GG_OK;
}

/*
 * Steps over one value of the given type.  depth is the number of arrays
 * this value sits in; a value may hold at most GG_GGUF_MAX_NESTING levels
 * of arrays.
 */
static int
skip_value(struct reader *r, uint32_t type, unsigned depth)
{
	int err;
	uint64_t len;

	if (type >= GGUF_TYPE_COUNT)
		return GG_EFORMAT;
	if (type == GGUF_STRING)
		return rd_string(r, GG_GGUF_MAX_STRING_LEN, NULL, 0, &len);
	if (type != GGUF_ARRAY)
		return rd_skip(r, gguf_scalar_size[type]);

	if (depth >= GG_GGUF_MAX_NESTING)
		return GG_ETOOBIG;
	uint32_t elem;
	uint64_t count;
	if ((err = rd_u32(r, &elem)) != GG_OK || (err = rd_u64(r, &count)) != GG_OK)
		return err;
	if (elem >= GGUF_TYPE_COUNT)
		return GG_EFORMAT;
	if (count > GG_GGUF_MAX_ARRAY_LEN)
		return GG_ETOOBIG;
	if (elem != GGUF_STRING && elem != GGUF_ARRAY)
		/* count <= 2^28 and size <= 8: the product cannot overflow. */
		return rd_skip(r, count * gguf_scalar_size[elem]);
	/* Each element consumes at least 8 bytes, so the header limit ends
	 * this loop long before a hostile count would. */
	for (uint64_t i = 0; i < count; i++)
		if ((err = skip_value(r, elem, depth + 1)) != GG_OK)
			return err;
	return GG_OK;
}

/* Reads a scalar of the given type as raw little-endian bits. */
static int
rd_scalar(struct reader *r, uint32_t type, uint64_t *bits)
{
	unsigned char b[8];
	size_t n = gguf_scalar_size[type];
	int err = rd_bytes(r, b, n);
	if (err == GG_OK)
		*bits = le_get(b, n);
	return err;
}

static int
is_int_type(uint32_t type)
{
	return type <= GGUF_INT32 || type == GGUF_UINT64 || type == GGUF_INT64;
}

static int
is_signed_type(uint32_t type)
{
	return type == GGUF_INT8 || type == GGUF_INT16 || type == GGUF_INT32 || type == GGUF_INT64;
}

/*
 * Reads an integer of any width; *neg is set when a signed value is below
 * zero (*v is then meaningless).
 */
static int
rd_int(struct reader *r, uint32_t type, uint64_t *v, int *neg)
{
	uint64_t bits;
	int err = rd_scalar(r, type, &bits);
	if (err != GG_OK)
		return err;
	unsigned width = 8u * gguf_scalar_size[type];
	*neg = is_signed_type(type) && ((bits >> (width - 1)) & 1u);
	*v = bits;
	return GG_OK;
}

static int
key_is(const unsigned char *key, uint64_t klen, const char *want)
{
	size_t n = strlen(want);
	return klen == n && memcmp(key, want, n) == 0;
}

/*
 * Copies text from the file into a summary field of cap bytes: at most
 * cap - 1 bytes, control bytes (NUL included) replaced by '?', and a cut
 * never splits a UTF-8 sequence.  src holds min(len, cap) bytes.
 */
static void
copy_text(char *dst, size_t cap, const unsigned char *src, uint64_t len)
{
	size_t n = len < cap ? (size_t)len : cap - 1;
	if (len > n) {
		/* src[n] is the first byte left out: if it continues a
		 * sequence, drop that sequence's leading bytes too. */
		for (int i = 0; i < 3 && n > 0 && (src[n] & 0xC0) == 0x80; i++)
			n--;
		if (n > 0 && (src[n] & 0xC0) == 0x80)
			n = len < cap ? (size_t)len : cap - 1; /* not UTF-8 */
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
	dst[n] = '\0';
}

/* What the KV pass collects. */
struct kv_state {
	unsigned char arch[sizeof(((struct gguf_summary *)0)->arch)];
	uint64_t arch_len; /* full length in the file */
	int have_arch, have_name, have_ftype, have_align;
	int ctx_found; /* matches of {arch}.context_length */
	struct {
		unsigned char arch[sizeof(((struct gguf_summary *)0)->arch) - 1];
		size_t len;
		uint64_t value;
	} cand[GGUF_CTX_CANDS];
	size_t n_cand;
};

/*
 * Handles "{prefix}.context_length" with an integer value.  The arch may
 * not be known yet (general.architecture may come later): such keys are
 * remembered, up to GGUF_CTX_CANDS of them, and settled after the pass.
 */
static void
note_context(struct kv_state *st, struct gguf_summary *s, const unsigned char *prefix, size_t plen,
	     uint64_t value)
{
	if (st->have_arch) {
		if (st->arch_len == plen && memcmp(st->arch, prefix, plen) == 0) {
			st->ctx_found++;
			s->context_length = value;
		}
		return;
	}
	if (st->n_cand < GGUF_CTX_CANDS) {
		memcpy(st->cand[st->n_cand].arch, prefix, plen);
		st->cand[st->n_cand].len = plen;
		st->cand[st->n_cand].value = value;
		st->n_cand++;
	}
}

/* Parses one key/value pair, keeping what the summary needs. */
static int
parse_kv(struct reader *r, struct kv_state *st, struct gguf_summary *s)
{
	unsigned char key[GGUF_KEY_KEEP];
	uint64_t klen, v, slen;
	uint32_t type;
	int err, neg;

	if ((err = rd_string(r, GG_GGUF_MAX_KEY_LEN, key, sizeof key, &klen)) != GG_OK)
		return err;
	if ((err = rd_u32(r, &type)) != GG_OK)
		return err;
	if (type >= GGUF_TYPE_COUNT)
		return GG_EFORMAT;
	if (klen > sizeof key) /* longer than any key we look for */
		return skip_value(r, type, 0);

	/* llama.cpp refuses duplicate keys; for the ones we keep, so do we,
	 * since two values would leave the summary ambiguous. */
	if (key_is(key, klen, "general.alignment")) {
		if (st->have_align++)
			return GG_EFORMAT;
		if (type != GGUF_UINT32)
			return GG_EFORMAT; /* the layout depends on it */
		if ((err = rd_scalar(r, type, &v)) != GG_OK)
			return err;
		if (v == 0 || (v & (v - 1)) != 0)
			return GG_EFORMAT;
		s->alignment = (uint32_t)v;
		return GG_OK;
	}
	if (key_is(key, klen, "general.architecture") && type == GGUF_STRING) {
		if (st->have_arch)
			return GG_EFORMAT;
		err = rd_string(r, GG_GGUF_MAX_STRING_LEN, st->arch, sizeof st->arch, &slen);
		if (err != GG_OK)
			return err;
		st->have_arch = 1;
		st->arch_len = slen;
		copy_text(s->arch, sizeof s->arch, st->arch, slen);
		return GG_OK;
	}
	if (key_is(key, klen, "general.name") && type == GGUF_STRING) {
		unsigned char name[sizeof s->name];
		if (st->have_name++)
			return GG_EFORMAT;
		err = rd_string(r, GG_GGUF_MAX_STRING_LEN, name, sizeof name, &slen);
		if (err == GG_OK)
			copy_text(s->name, sizeof s->name, name, slen);
		return err;
	}
	if (key_is(key, klen, "general.file_type") && (type == GGUF_UINT32 || type == GGUF_INT32)) {
		if (st->have_ftype++)
			return GG_EFORMAT;
		if ((err = rd_int(r, type, &v, &neg)) != GG_OK)
			return err;
		if (!neg && v <= INT32_MAX)
			s->file_type = (int32_t)v;
		return GG_OK;
	}
	size_t sfx = sizeof(GGUF_CTX_SUFFIX) - 1;
	if (klen > sfx && klen - sfx < sizeof s->arch && is_int_type(type) &&
	    memcmp(key + klen - sfx, GGUF_CTX_SUFFIX, sfx) == 0) {
		if ((err = rd_int(r, type, &v, &neg)) != GG_OK)
			return err;
		if (!neg)
			note_context(st, s, key, (size_t)klen - sfx, v);
		return GG_OK;
	}
	return skip_value(r, type, 0);
}

/*
 * Parses one tensor info.  The data start is not known until the last
 * info is read, so this checks the offset against the file size and
 * returns the tensor's end relative to the data start in *end.
 */
static int
parse_tensor(struct reader *r, uint32_t alignment, uint64_t *nelem_out, uint64_t *end)
{
	uint64_t len, dim, dim0 = 0, nelem = 1, off;
	uint32_t n_dims, type;
	int err;

	if ((err = rd_string(r, GG_GGUF_MAX_KEY_LEN, NULL, 0, &len)) != GG_OK)
		return err;
	if ((err = rd_u32(r, &n_dims)) != GG_OK)
		return err;
	if (n_dims == 0 || n_dims > GG_GGUF_MAX_DIMS)
		return GG_EFORMAT;
	for (uint32_t d = 0; d < n_dims; d++) {
		if ((err = rd_u64(r, &dim)) != GG_OK)
			return err;
		/* ggml counts elements in int64_t. */
		if (dim == 0 || dim > (uint64_t)INT64_MAX / nelem)
			return GG_EFORMAT;
		nelem *= dim;
		if (d == 0)
			dim0 = dim;
	}
	if ((err = rd_u32(r, &type)) != GG_OK)
		return err;
	if (type >= GGML_TYPE_MAX || ggml_types[type].block == 0)
		return GG_EFORMAT;
	const struct ggml_type_info *ti = &ggml_types[type];
	if (dim0 % ti->block != 0)
		return GG_EFORMAT;
	uint64_t blocks = nelem / ti->block;
	if (blocks > UINT64_MAX / ti->size)
		return GG_ECORRUPT; /* larger than any file */
	uint64_t nbytes = blocks * ti->size;

	if ((err = rd_u64(r, &off)) != GG_OK)
		return err;
	if (off % alignment != 0)
		return GG_EFORMAT;
	if (nbytes > r->file_size || off > r->file_size - nbytes)
		return GG_ECORRUPT;
	*nelem_out = nelem;
	*end = off + nbytes;
	return GG_OK;
}

/* Checks that the file starts with (a prefix of) the magic. */
static int
parse_magic(struct reader *r)
{
	static const unsigned char magic[4] = { 'G', 'G', 'U', 'F' };
	size_t n = r->limit < sizeof magic ? (size_t)r->limit : sizeof magic;
	unsigned char b[4];
	int err = rd_bytes(r, b, n);
	if (err != GG_OK)
		return err;
	if (memcmp(b, magic, n) != 0)
		return GG_EFORMAT;
	return n < sizeof magic ? GG_ECORRUPT : GG_OK;
}

int
gguf_parse(gguf_read_fn read, void *ctx, uint64_t file_size, struct gguf_summary *out)
{
	struct reader r = { .read = read, .ctx = ctx, .file_size = file_size };
	struct gguf_summary s;
	struct kv_state st;
	uint64_t max_end = 0;
	int err;

	memset(out, 0, sizeof *out);
	memset(&s, 0, sizeof s);
	memset(&st, 0, sizeof st);
	s.file_type = -1;
	s.alignment = GGUF_DEFAULT_ALIGN;
	r.limit = file_size < GG_GGUF_MAX_HEADER ? file_size : GG_GGUF_MAX_HEADER;
	r.win = xmalloc(GGUF_WINDOW);

	if ((err = parse_magic(&r)) != GG_OK)
		goto fail;
	if ((err = rd_u32(&r, &s.version)) != GG_OK)
		goto fail;
	if (s.version != 2 && s.version != 3) {
		err = GG_EFORMAT;
		goto fail;
	}
	if ((err = rd_u64(&r, &s.tensor_count)) != GG_OK ||
	    (err = rd_u64(&r, &s.kv_count)) != GG_OK)
		goto fail;
	if (s.tensor_count > GG_GGUF_MAX_TENSORS || s.kv_count > GG_GGUF_MAX_KV) {
		err = GG_ETOOBIG;
		goto fail;
	}

	for (uint64_t i = 0; i < s.kv_count; i++)
		if ((err = parse_kv(&r, &st, &s)) != GG_OK)
			goto fail;
	if (st.have_arch) {
		for (size_t i = 0; i < st.n_cand; i++) {
			if (st.cand[i].len == st.arch_len &&
			    memcmp(st.cand[i].arch, st.arch, st.cand[i].len) == 0) {
				st.ctx_found++;
				s.context_length = st.cand[i].value;
			}
		}
	}
	if (st.ctx_found > 1) { /* a duplicate key */
		err = GG_EFORMAT;
		goto fail;
	}

	for (uint64_t i = 0; i < s.tensor_count; i++) {
		uint64_t nelem, end;
		if ((err = parse_tensor(&r, s.alignment, &nelem, &end)) != GG_OK)
			goto fail;
		if (nelem > UINT64_MAX - s.param_count) {
			err = GG_EFORMAT;
			goto fail;
		}
		s.param_count += nelem;
		if (end > max_end)
			max_end = end;
	}

	/* r.pos <= GG_GGUF_MAX_HEADER, so this cannot overflow. */
	s.data_offset = (r.pos + s.alignment - 1) & ~(uint64_t)(s.alignment - 1);
	s.data_size = max_end;
	/* Every tensor holds at least one byte.  A file without tensors may
	 * end before its padding, as llama.cpp accepts it. */
	if (s.tensor_count > 0 &&
	    (s.data_offset > file_size || max_end > file_size - s.data_offset)) {
		err = GG_ECORRUPT;
		goto fail;
	}

	const char *q = gguf_ftype_name(s.file_type);
	if (q != NULL)
		(void)snprintf_checked(s.quant, sizeof s.quant, "%s", q);
	*out = s;
	err = GG_OK;
fail:
	free(r.win);
	return err;
}

/*
 * One string value, or the string elements of an array value, appended to
 * out as text lines (at most GGUF_TEXT_ITEMS of them).  Text is kept as
 * copy_text keeps it; what does not fit in out is left out whole.
 */
#define GGUF_TEXT_ITEMS 64
#define GGUF_TEXT_KEEP 512

static int
text_item(struct reader *r, char *out, size_t outsz, size_t *used, unsigned *items)
{
	unsigned char keep[GGUF_TEXT_KEEP];
	char line[GGUF_TEXT_KEEP + 1];
	uint64_t slen;
	size_t ll;
	int err = rd_string(r, GG_GGUF_MAX_STRING_LEN, keep, sizeof keep, &slen);

	if (err != GG_OK)
		return err;
	copy_text(line, sizeof line, keep, slen);
	ll = strlen(line);
	if (*items >= GGUF_TEXT_ITEMS || ll == 0 || *used + ll + 2 > outsz)
		return GG_OK;
	if (*items > 0)
		out[(*used)++] = '\n';
	memcpy(out + *used, line, ll + 1);
	*used += ll;
	(*items)++;
	return GG_OK;
}

int
gguf_find_text(gguf_read_fn read, void *ctx, uint64_t file_size, const char *key, char *out,
	       size_t outsz)
{
	struct reader r = { .read = read, .ctx = ctx, .file_size = file_size };
	unsigned char k[GGUF_KEY_KEEP];
	uint64_t tensors, kvs, klen, count;
	uint32_t version, type, elem;
	size_t used = 0;
	unsigned items = 0;
	int err, found = 0;

	if (out == NULL || outsz == 0 || key == NULL || strlen(key) >= sizeof k)
		return GG_EINVAL;
	out[0] = '\0';
	r.limit = file_size < GG_GGUF_MAX_HEADER ? file_size : GG_GGUF_MAX_HEADER;
	r.win = xmalloc(GGUF_WINDOW);
	if ((err = parse_magic(&r)) != GG_OK || (err = rd_u32(&r, &version)) != GG_OK)
		goto done;
	if (version != 2 && version != 3) {
		err = GG_EFORMAT;
		goto done;
	}
	if ((err = rd_u64(&r, &tensors)) != GG_OK || (err = rd_u64(&r, &kvs)) != GG_OK)
		goto done;
	if (kvs > GG_GGUF_MAX_KV) {
		err = GG_ETOOBIG;
		goto done;
	}
	for (uint64_t i = 0; i < kvs && !found; i++) {
		if ((err = rd_string(&r, GG_GGUF_MAX_KEY_LEN, k, sizeof k, &klen)) != GG_OK ||
		    (err = rd_u32(&r, &type)) != GG_OK)
			goto done;
		if (type >= GGUF_TYPE_COUNT) {
			err = GG_EFORMAT;
			goto done;
		}
		if (klen > sizeof k || !key_is(k, klen, key)) {
			if ((err = skip_value(&r, type, 0)) != GG_OK)
				goto done;
			continue;
		}
		found = 1;
		if (type == GGUF_STRING) {
			err = text_item(&r, out, outsz, &used, &items);
			goto done;
		}
		if (is_int_type(type)) {
			uint64_t v;
			int neg;
			if ((err = rd_int(&r, type, &v, &neg)) != GG_OK)
				goto done;
			if (neg) /* sign-extend the value's width */
				v |= gguf_scalar_size[type] < 8
					     ? ~(uint64_t)0 << (8u * gguf_scalar_size[type])
					     : 0;
			if (neg)
				(void)snprintf_checked(out, outsz, "-%llu",
						       (unsigned long long)(~v + 1));
			else
				(void)snprintf_checked(out, outsz, "%llu", (unsigned long long)v);
			break;
		}
		if (type != GGUF_ARRAY)
			break; /* not text: as absent */
		if ((err = rd_u32(&r, &elem)) != GG_OK || (err = rd_u64(&r, &count)) != GG_OK)
			goto done;
		if (elem != GGUF_STRING)
			break;
		if (count > GG_GGUF_MAX_ARRAY_LEN) {
			err = GG_ETOOBIG;
			goto done;
		}
		/* Each element consumes at least 8 bytes of the bounded header. */
		for (uint64_t j = 0; j < count; j++)
			if ((err = text_item(&r, out, outsz, &used, &items)) != GG_OK)
				goto done;
	}
	err = out[0] != '\0' ? GG_OK : GG_ENOENT;
done:
	if (err != GG_OK)
		out[0] = '\0';
	else if (out[0] == '\0')
		err = GG_ENOENT;
	free(r.win);
	return err;
}

struct fd_ctx {
	int fd;
};

static long
fd_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	const struct fd_ctx *c = ctx;
	for (;;) {
		ssize_t got = pread(c->fd, buf, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		return got < 0 ? -1 : (long)got;
	}
}

int
gguf_parse_fd(int fd, uint64_t file_size, struct gguf_summary *out)
{
	struct fd_ctx c = { fd };
	return gguf_parse(fd_read, &c, file_size, out);
}

int
gguf_find_text_fd(int fd, uint64_t file_size, const char *key, char *out, size_t outsz)
{
	struct fd_ctx c = { fd };
	return gguf_find_text(fd_read, &c, file_size, key, out, outsz);
}

struct mem_ctx {
	const unsigned char *data;
	size_t len;
};

static long
mem_read(void *ctx, void *buf, size_t n, uint64_t off)
{
	const struct mem_ctx *c = ctx;
	if (off >= c->len)
		return 0;
	size_t take = c->len - (size_t)off < n ? c->len - (size_t)off : n;
	memcpy(buf, c->data + off, take);
	return (long)take;
}

int
gguf_parse_mem(const void *data, size_t len, struct gguf_summary *out)
{
	struct mem_ctx c = { data, data != NULL ? len : 0 };
	return gguf_parse(mem_read, &c, c.len, out);
}

int
gguf_find_text_mem(const void *data, size_t len, const char *key, char *out, size_t outsz)
{
	struct mem_ctx c = { data, data != NULL ? len : 0 };
	return gguf_find_text(mem_read, &c, c.len, key, out, outsz);
}

const char *
gguf_ftype_name(int32_t file_type)
{
	for (size_t i = 0; i < N_FTYPES; i++)
		if (ftype_names[i].ftype == file_type)
			return ftype_names[i].name;
	return NULL;
}

int32_t
gguf_ftype_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < N_FTYPES; i++)
		if (strcasecmp(ftype_names[i].name, name) == 0)
			return ftype_names[i].ftype;
	return -1;
}

/*
 * "{prefix}-00001-of-00003.gguf": the fixed-width tail is checked from the
 * end, digit by digit, so no number is parsed past its five bytes.
 */
static int
split_number(const char *p, unsigned *v)
{
	unsigned n = 0;
	for (int i = 0; i < GG_GGUF_SPLIT_DIGITS; i++) {
		if (p[i] < '0' || p[i] > '9')
			return GG_EINVAL;
		n = n * 10 + (unsigned)(p[i] - '0');
	}
	*v = n;
	return GG_OK;
}

int
gguf_split_name(const char *path, unsigned *index, unsigned *count, size_t *prefix_len)
{
	/* "-" D "-of-" D ".gguf", D being GG_GGUF_SPLIT_DIGITS digits. */
	const size_t tail = 1 + GG_GGUF_SPLIT_DIGITS + 4 + GG_GGUF_SPLIT_DIGITS + 5;
	const char *t;
	unsigned i, n;
	size_t len;

	if (path == NULL)
		return GG_EINVAL;
	len = strlen(path);
	if (len <= tail)
		return GG_EINVAL; /* the prefix may not be empty */
	t = path + len - tail;
	if (t[0] != '-' || t[-1] == '/' || split_number(t + 1, &i) != GG_OK ||
	    strncmp(t + 1 + GG_GGUF_SPLIT_DIGITS, "-of-", 4) != 0 ||
	    split_number(t + 5 + GG_GGUF_SPLIT_DIGITS, &n) != GG_OK ||
	    strcasecmp(t + 5 + 2 * GG_GGUF_SPLIT_DIGITS, ".gguf") != 0 || i < 1 || i > n)
		return GG_EINVAL;
	*index = i;
	*count = n;
	if (prefix_len != NULL)
		*prefix_len = (size_t)(t - path);
	return GG_OK;
}
