/*
 * gguf.h: a bounded, hostile-input-safe GGUF header parser.
 *
 * GGUF (llama.cpp's model format) is: magic "GGUF", uint32 version (2 or
 * 3; version 1 used 32-bit counts and is refused), uint64 tensor_count,
 * uint64 kv_count, then kv_count key/value pairs, then tensor_count tensor
 * infos, then padding to `general.alignment` (default 32), then tensor data.
 * All integers are little-endian.
 *
 * The parser reads only the header region through a pread-style callback,
 * in bounded chunks: it never reads the tensor data, never allocates in
 * proportion to a count or length taken from the file beyond the limits in
 * limits.h (GG_GGUF_*), and terminates on every input.
 *
 * Thread safety: no shared state; distinct calls may run in parallel.
 */
#ifndef GG_GGUF_H
#define GG_GGUF_H

#include <stddef.h>
#include <stdint.h>

/* What the store keeps of a GGUF file.  Strings are NUL-terminated and
 * truncated to fit (never inside a UTF-8 sequence), with control bytes
 * (NUL included) replaced by '?'; absent values are "" or 0 (file_type:
 * -1).  general.architecture, general.name and general.file_type (uint32
 * or int32; a negative value counts as absent) of another value type are
 * ignored, as absent.  context_length comes from "{arch}.context_length"
 * of any integer type (negative: absent), wherever it stands relative to
 * general.architecture (up to 8 such keys before the arch are
 * remembered); an arch longer than 63 bytes has none. */
struct gguf_summary {
	uint32_t version;        /* 2 or 3 */
	char arch[64];           /* general.architecture, e.g. "llama" */
	char name[128];          /* general.name */
	int32_t file_type;       /* general.file_type (LLAMA_FTYPE_*), -1 if absent */
	char quant[24];          /* file_type as a quant name, e.g. "Q4_K_M"; "" if unknown */
	uint64_t context_length; /* {arch}.context_length, 0 if absent */
	uint64_t tensor_count;
	uint64_t kv_count;
	uint64_t param_count; /* sum over tensors of the product of dims */
	uint32_t alignment;   /* general.alignment, default 32 */
	uint64_t data_offset; /* file offset where tensor data starts */
	uint64_t data_size;   /* bytes from data_offset to the end of the last tensor */
};

/*
 * Reads up to n bytes at offset off into buf; returns the number of bytes
 * read (0 at end of file) or -1 on an I/O error.
 */
typedef long (*gguf_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);

/*
 * Parses and validates the GGUF header of a file of file_size bytes read
 * through read(ctx, ...).  Checks magic, version, counts against the
 * limits, string and array bounds, value types, tensor dims and types,
 * alignment (a power of two), every tensor offset aligned and every
 * tensor's data inside the file.
 *
 * In detail: keys and tensor names are at most GG_GGUF_MAX_KEY_LEN bytes,
 * string values GG_GGUF_MAX_STRING_LEN, arrays GG_GGUF_MAX_ARRAY_LEN
 * elements, and one value holds at most GG_GGUF_MAX_NESTING levels of
 * arrays; the header region (everything before the alignment padding)
 * ends within GG_GGUF_MAX_HEADER bytes.  general.alignment must be a
 * uint32.  A second general.architecture, general.name, general.file_type,
 * general.alignment or {arch}.context_length is refused (llama.cpp refuses
 * duplicate keys; other duplicates are not looked for).  A tensor has 1..4
 * dims, each >= 1, an element count <= INT64_MAX, a known ggml type,
 * dims[0] a multiple of the type's block size, an offset that is a
 * multiple of the alignment, and its bytes (elements / block * block
 * bytes) inside the file.  Tensor order, overlap and name uniqueness are
 * not checked.  A file without tensors may end before data_offset (as
 * llama.cpp allows); with tensors, data_offset + data_size <= file_size.
 *
 * Reads only the header region, through a 64 KiB window (one allocation
 * per call; out of memory aborts).  A read callback that returns 0 before
 * file_size is reached makes the file truncated (GG_ECORRUPT).  *out is
 * written only on success and zeroed on failure.
 *
 * Returns 0 and fills *out, or:
 *   GG_EFORMAT  not GGUF, or an invalid field (bad type, dims, alignment)
 *   GG_ECORRUPT the file ends inside the header, or tensor data lies
 *               outside the file
 *   GG_ETOOBIG  a count or length beyond the GG_GGUF_* limits
 *   GG_EIO      the read callback failed (errno as it left it)
 */
int gguf_parse(gguf_read_fn read, void *ctx, uint64_t file_size, struct gguf_summary *out);

/* gguf_parse over a file descriptor (pread, retried on EINTR), file_size
 * from the caller.  The file offset of fd is not used or changed. */
int gguf_parse_fd(int fd, uint64_t file_size, struct gguf_summary *out);

/* gguf_parse over memory holding the whole file (fuzzing and tests). */
int gguf_parse_mem(const void *data, size_t len, struct gguf_summary *out);

/*
 * The text of one metadata key that the summary does not keep
 * ("general.license", "general.base_model.0.repo_url", "general.languages",
 * "general.tags"): a string value, or the string elements of an array
 * value one per line ('\n'), or an integer value in decimal
 * ("llama.block_count"), in out (outsz bytes, NUL-terminated).  Each
 * string is cleaned as the summary's are (control bytes become '?') and
 * cut to 511 bytes; at most 64 elements are kept, and an element that
 * does not fit in out whole is left out.  Walks the key/value pairs only,
 * with the same bounds as gguf_parse (it does not validate the tensors).
 * Returns 0, GG_ENOENT (no such key, an empty value, or a value that is not
 * text), GG_EINVAL (out NULL, outsz 0, key NULL or longer than 95 bytes),
 * or gguf_parse's GG_EFORMAT / GG_ECORRUPT / GG_ETOOBIG / GG_EIO; out is ""
 * unless 0 is returned.
 */
int gguf_find_text(gguf_read_fn read, void *ctx, uint64_t file_size, const char *key, char *out,
		   size_t outsz);
int gguf_find_text_fd(int fd, uint64_t file_size, const char *key, char *out, size_t outsz);
int gguf_find_text_mem(const void *data, size_t len, const char *key, char *out, size_t outsz);

/*
 * The quant name for a llama.cpp LLAMA_FTYPE value ("F32", "F16", "Q4_0",
 * "Q4_K_M", "Q8_0", "IQ2_XXS", "BF16", ...), or NULL if unknown.
 */
const char *gguf_ftype_name(int32_t file_type);

/*
 * The LLAMA_FTYPE for a quant name, case-insensitive ("q4_k_m" -> 15), or
 * -1 if unknown or NULL.  Only the names gguf_ftype_name returns are known
 * (no aliases such as "Q4_K").
 */
int32_t gguf_ftype_from_name(const char *name);

/*
 * Whether path names one file of a split GGUF set as llama.cpp writes and
 * finds them (gguf-split, llama_split_path): "{prefix}-{i}-of-{n}.gguf",
 * i and n of exactly GG_GGUF_SPLIT_DIGITS digits, 1 <= i <= n, prefix not
 * empty ("Q4_K_M/model-00001-of-00003.gguf": prefix "Q4_K_M/model", shard
 * 1 of 3).  The ".gguf" is matched without regard to case.  Returns 0 with
 * *index, *count and, if prefix_len is not NULL, *prefix_len (bytes of
 * path before "-{i}-of-") set, or GG_EINVAL (not such a name, or NULL);
 * the outputs are then left alone.
 */
int gguf_split_name(const char *path, unsigned *index, unsigned *count, size_t *prefix_len);

#endif
