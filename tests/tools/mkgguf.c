/*
 * mkgguf.c: writes a small valid GGUF file for integration tests and
 * fuzzing seeds; a command-line face on ggufgen (see ggufgen.h).
 *
 * The model is ggufgen's default tensor set for the ftype (weights in the
 * ftype's quant type, e.g. Q4_K blocks for Q4_K_M, F32 norms, a Q6_K
 * output for k-quants), so the file is a few KB unless --size pads it.
 * Exit status: 0 written, 1 write failed, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "ggufgen.h"
#include "util.h"

static void
usage(void)
{
	fputs("usage: mkgguf OUT [--version N] [--arch A] [--name S] [--ftype N|NAME|none]\n"
	      "              [--ctx N] [--alignment N] [--size BYTES[k|M|G]] [--seed N]\n"
	      "              [--extra] [--arch-last] [--kv KEY=VALUE]...\n"
	      "defaults: --version 3 --arch llama --name mkgguf --ftype Q4_K_M --ctx 4096\n"
	      "          --seed 1; --ctx 0 and --ftype none leave the key out;\n"
	      "          --alignment writes general.alignment (default: absent, 32);\n"
	      "          --size pads the file to at least BYTES with an F32 tensor;\n"
	      "          --extra adds tokenizer arrays, every scalar type and nested arrays;\n"
	      "          --arch-last writes general.architecture after the other keys;\n"
	      "          --kv writes a string pair (a VALUE with ',' an array of strings,\n"
	      "          u32:N a uint32).\n",
	      stderr);
}

/* A number with an optional binary suffix (k, M, G). */
static int
parse_size(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	unsigned shift = 0;
	if (n > 0) {
		switch (s[n - 1]) {
		case 'k':
		case 'K': shift = 10; break;
		case 'm':
		case 'M': shift = 20; break;
		case 'g':
		case 'G': shift = 30; break;
		}
	}
	if (shift != 0)
		n--;
	if (parse_u64(s, s + n, UINT64_MAX >> shift, out) != 0)
		return -1;
	*out <<= shift;
	return 0;
}

int
main(int argc, char **argv)
{
	struct ggufgen_tensor tensors[GGUFGEN_DEFAULT_TENSORS];
	struct ggufgen_opts o;
	const char *out = NULL;
	uint64_t v;
	const char *kvs[16];
	size_t n_kvs = 0;

	ggufgen_defaults(&o);
	o.name = "mkgguf";
	o.file_type = 15; /* Q4_K_M */
	o.context_length = 4096;
	o.seed = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--extra") == 0) {
			o.extra_kvs = GGUFGEN_EXTRA_ALL;
			takes = 0;
		} else if (strcmp(a, "--arch-last") == 0) {
			o.arch_last = 1;
			takes = 0;
		} else if (strncmp(a, "--", 2) != 0) {
			if (out != NULL)
				goto usage;
			out = a;
			takes = 0;
		} else if (val == NULL) {
			goto usage;
		} else if (strcmp(a, "--version") == 0) {
			if (parse_u64_str(val, UINT32_MAX, &v) != 0)
				goto usage;
			o.version = (uint32_t)v;
			if (o.version == 0) /* ggufgen reads 0 as "default" */
				goto usage;
		} else if (strcmp(a, "--arch") == 0) {
			o.arch = val;
		} else if (strcmp(a, "--name") == 0) {
			o.name = val;
		} else if (strcmp(a, "--ftype") == 0) {
			if (strcmp(val, "none") == 0)
				o.file_type = -1;
			else if (parse_u64_str(val, INT32_MAX, &v) == 0)
				o.file_type = (int32_t)v;
			else if ((o.file_type = gguf_ftype_from_name(val)) < 0)
				goto usage;
		} else if (strcmp(a, "--ctx") == 0) {
			if (parse_u64_str(val, UINT64_MAX, &o.context_length) != 0)
				goto usage;
		} else if (strcmp(a, "--alignment") == 0) {
			if (parse_u64_str(val, UINT32_MAX, &v) != 0 || v == 0 || (v & (v - 1)) != 0)
				goto usage;
			o.alignment = (uint32_t)v;
		} else if (strcmp(a, "--size") == 0) {
			if (parse_size(val, &o.min_size) != 0)
				goto usage;
		} else if (strcmp(a, "--kv") == 0) {
			if (n_kvs == sizeof(kvs) / sizeof(kvs[0]) || strchr(val, '=') == NULL)
				goto usage;
			kvs[n_kvs++] = val;
			o.text_kvs = kvs;
			o.n_text_kvs = n_kvs;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64_str(val, UINT32_MAX, &v) != 0)
				goto usage;
			o.seed = (uint32_t)v;
		} else {
			goto usage;
		}
		i += takes;
	}
	if (out == NULL)
		goto usage;

	o.n_tensors = ggufgen_default_tensors(o.file_type, tensors, GGUFGEN_DEFAULT_TENSORS);
	o.tensors = tensors;
	if (ggufgen_write(out, &o) != 0) {
		fprintf(stderr, "mkgguf: writing \"%s\" failed: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
usage:
	usage();
	return 2;
}
