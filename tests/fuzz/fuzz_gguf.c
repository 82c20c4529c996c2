/*
 * fuzz_gguf.c: libFuzzer target for the GGUF header parser.
 *
 * Every input must end in a return code from gguf.h's list, without a
 * sanitizer report; an accepted input must give a summary that keeps the
 * promises gguf.h makes (NUL-terminated strings, a power-of-two
 * alignment, tensor data inside the file).  A broken promise aborts, which
 * libFuzzer reports as a crash.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Istorage \
 *       tests/fuzz/fuzz_gguf.c storage/gguf.c storage/util.c storage/log.c
 *   ./a.out tests/fuzz/corpus/gguf
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gguf.h"
#include "util.h"

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_summary s;
	int rc = gguf_parse_mem(data, size, &s);

	check(rc == GG_OK || rc == GG_EFORMAT || rc == GG_ECORRUPT || rc == GG_ETOOBIG);
	if (rc != GG_OK)
		return 0;
	check(s.version == 2 || s.version == 3);
	check(memchr(s.arch, '\0', sizeof s.arch) != NULL);
	check(memchr(s.name, '\0', sizeof s.name) != NULL);
	check(memchr(s.quant, '\0', sizeof s.quant) != NULL);
	check(s.alignment != 0 && (s.alignment & (s.alignment - 1)) == 0);
	check(s.data_offset % s.alignment == 0);
	check(s.param_count >= s.tensor_count);
	if (s.tensor_count > 0)
		check(s.data_offset <= size && s.data_size <= size - s.data_offset);
	const char *q = gguf_ftype_name(s.file_type);
	check(strcmp(s.quant, q != NULL ? q : "") == 0);
	return 0;
}
