/*
 * fuzz.h: what every libFuzzer target here shares: libFuzzer's entry
 * point, and CHECK, which traps (a finding) when a parser breaks one of
 * its header's promises.
 */
#ifndef GG_FUZZ_H
#define GG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#endif
