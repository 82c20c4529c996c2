/*
 * ggufgen.h: a generator of valid GGUF files for the tests and mkgguf.
 *
 * A file is described by struct ggufgen_opts and laid out the way
 * llama.cpp's writer does it: the header, the key/value pairs, the tensor
 * infos, zero padding to the alignment, then each tensor's data at an
 * aligned offset followed by zero padding to the next multiple of the
 * alignment (the last tensor is padded too, so a file may be longer than
 * data_offset + data_size by less than the alignment).
 *
 * Key/value order: general.architecture (unless arch_last), general.name,
 * general.file_type (uint32), general.alignment (uint32),
 * "{arch}.context_length" (uint32 if it fits, else uint64), the extra
 * pairs, and general.architecture last when arch_last is set.
 *
 * Tensor data is a deterministic pseudo-random function of the seed and
 * the byte's position in the data section (ggufgen_fill); padding is zero.
 * Equal options always give identical files.
 *
 * The same module has a small byte builder (ggufgen_buf) so tests can
 * write deliberately malformed files by hand.
 *
 * Out of memory aborts.  No shared state: thread safe.
 */
#ifndef GGUFGEN_H
#define GGUFGEN_H

#include <stddef.h>
#include <stdint.h>

/* ggml type ids used by the defaults (see gguf.c for the full table). */
#define GGUFGEN_F32 0u
#define GGUFGEN_F16 1u
#define GGUFGEN_Q4_0 2u
#define GGUFGEN_Q8_0 8u
#define GGUFGEN_Q4_K 12u
#define GGUFGEN_Q6_K 14u

struct ggufgen_tensor {
	const char *name;
	uint32_t n_dims;  /* 1..4 */
	uint64_t dims[4]; /* dims[0] a multiple of the type's block size */
	uint32_t type;    /* a ggml type id known to ggufgen_type_info */
};

/* Bits of ggufgen_opts.extra_kvs. */
enum {
	/* tokenizer.ggml.{model,tokens,scores,token_type,bos_token_id,
	 * eos_token_id}: a 64-token vocabulary as string/f32/i32 arrays. */
	GGUFGEN_EXTRA_TOKENIZER = 1,
	/* "ggufgen.<type>" for every scalar type, a string, an empty string
	 * and an empty array. */
	GGUFGEN_EXTRA_SCALARS = 2,
	/* Arrays of arrays (u16 and string leaves) and one array nested
	 * GGUFGEN_MAX_DEPTH deep.  llama.cpp refuses nested arrays; the GGUF
	 * spec and ggufd accept them. */
	GGUFGEN_EXTRA_NESTED = 4,
	GGUFGEN_EXTRA_ALL = 7,
};

/* Depth of the deepest array GGUFGEN_EXTRA_NESTED writes (= GG_GGUF_MAX_NESTING). */
#define GGUFGEN_MAX_DEPTH 4

struct ggufgen_opts {
	uint32_t version;        /* written as given (tests may pass 1 or 4); 0 means 3 */
	const char *arch;        /* general.architecture; NULL omits it and the context key */
	const char *name;        /* general.name; NULL omits it */
	int32_t file_type;       /* general.file_type; -1 omits it (0 is F32!) */
	uint64_t context_length; /* {arch}.context_length; 0 omits it */
	uint32_t alignment;      /* 0: default 32, key omitted; else a power of two, written */
	int arch_last;           /* write general.architecture after every other pair */
	const struct ggufgen_tensor *tensors; /* borrowed for the call */
	size_t n_tensors;
	int extra_kvs;     /* GGUFGEN_EXTRA_* bits */
	uint64_t min_size; /* if larger than the natural size, a 1-D F32 tensor
			    * "ggufgen.padding" is appended so the file is at
			    * least this big */
	uint32_t seed;     /* tensor data seed */
	/* String pairs written after the extra pairs, as "KEY=VALUE" (a
	 * VALUE with ',' becomes an array of strings, "u32:N" a uint32);
	 * borrowed for the call. */
	const char *const *text_kvs;
	size_t n_text_kvs;
};

/* Where things landed; filled by ggufgen_layout. */
struct ggufgen_layout {
	uint64_t kv_count;
	uint64_t tensor_count; /* including the padding tensor */
	uint64_t param_count;  /* including the padding tensor */
	uint64_t header_len;   /* bytes before the alignment padding */
	uint64_t data_offset;  /* header_len rounded up to the alignment */
	uint64_t data_size;    /* data_offset to the end of the last tensor */
	uint64_t file_size;    /* data_offset + data_size + final padding */
};

/* Fills o with: version 3, arch "llama", file_type -1, everything else 0/NULL. */
void ggufgen_defaults(struct ggufgen_opts *o);

/* Block size and bytes per block of a ggml type: 0, or -1 if unknown. */
int ggufgen_type_info(uint32_t type, uint32_t *block, uint32_t *size);

/* The tensor type that dominates a LLAMA_FTYPE (15 -> Q4_K), or -1. */
int32_t ggufgen_ftype_tensor_type(int32_t ftype);

#define GGUFGEN_DEFAULT_TENSORS 6
/*
 * Writes the default model's tensors (token_embd, one block's attn_norm,
 * attn_q and ffn_down, output_norm, output) for a LLAMA_FTYPE into out
 * (cap >= GGUFGEN_DEFAULT_TENSORS) and returns how many.  Weights use the
 * ftype's type (ftype -1 or unknown: F32), norms F32, and output Q6_K for
 * the k-quant ftypes.  Names are static strings.  Their element counts sum
 * to GGUFGEN_DEFAULT_PARAMS.
 */
size_t ggufgen_default_tensors(int32_t ftype, struct ggufgen_tensor *out, size_t cap);
#define GGUFGEN_DEFAULT_PARAMS 3584u

/* Computes the layout of the file o describes: 0, or -1 if o is invalid
 * (unknown tensor type, bad dims, alignment not a power of two). */
int ggufgen_layout(const struct ggufgen_opts *o, struct ggufgen_layout *l);

/*
 * Builds the whole file in memory.  Returns a buffer the caller frees with
 * free() and its length in *len, or NULL if o is invalid.
 */
unsigned char *ggufgen_mem(const struct ggufgen_opts *o, size_t *len);

/*
 * Writes the file to path (created or truncated, mode 0644 less umask),
 * streaming the tensor data in small chunks, so min_size may be large.
 * Returns 0, or -1 with errno set (EINVAL for invalid options); a partial
 * file is removed.
 */
int ggufgen_write(const char *path, const struct ggufgen_opts *o);

/* The n data-section bytes starting at data-relative offset off, as they
 * would be for tensor data with this seed. */
void ggufgen_fill(uint32_t seed, uint64_t off, unsigned char *dst, size_t n);

/* A growable little-endian byte builder for hand-made (bad) files. */
struct ggufgen_buf {
	unsigned char *data; /* owned; free with ggufgen_buf_free */
	size_t len;
	size_t cap;
};
void ggufgen_put_bytes(struct ggufgen_buf *b, const void *p, size_t n);
void ggufgen_put_zeros(struct ggufgen_buf *b, size_t n);
void ggufgen_put_u8(struct ggufgen_buf *b, uint8_t v);
void ggufgen_put_u16(struct ggufgen_buf *b, uint16_t v);
void ggufgen_put_u32(struct ggufgen_buf *b, uint32_t v);
void ggufgen_put_u64(struct ggufgen_buf *b, uint64_t v);
/* A GGUF string: u64 length, then the bytes of the C string s. */
void ggufgen_put_str(struct ggufgen_buf *b, const char *s);
/* Overwrites 4 or 8 bytes at off (off + width <= len). */
void ggufgen_patch_u32(struct ggufgen_buf *b, size_t off, uint32_t v);
void ggufgen_patch_u64(struct ggufgen_buf *b, size_t off, uint64_t v);
void ggufgen_buf_free(struct ggufgen_buf *b);

#endif
