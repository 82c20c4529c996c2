/*
 * json.h: validated reads of fields from parsed JSON (cJSON).
 *
 * A JSON number reaches us as a cJSON double, so a field that must be a
 * byte count or an id is read through here rather than with a cast of
 * valuedouble: a cast turns -1 into a huge size, 1.5 into 1, 1e300 and
 * NaN into undefined behaviour.  Each function accepts exactly what it
 * documents and says why it refused with the project's error codes.
 *
 * Thread safety: no shared state; the cJSON tree must not change during a
 * call.
 */
#ifndef GG_JSON_H
#define GG_JSON_H

#include <stdint.h>

#include <cjson/cJSON.h>

/*
 * The largest integer json_get_u64 accepts, 2^53: every integer up to it
 * is a double exactly, so no two of them can be confused.  (A text beyond
 * it may still round to it: "9007199254740993" parses as 2^53.)
 */
#define JSON_MAX_EXACT_INT (UINT64_C(1) << 53)

/*
 * Reads the member `key` of the object o (case-sensitive; the first one if
 * the key repeats) as an unsigned integer no larger than max, which is
 * capped at JSON_MAX_EXACT_INT.
 *
 * Accepted: a JSON number that is integral and 0 <= value <= max, written
 * in any JSON form ("1000", "1e3", "1000.0"; "-0" is 0).
 *
 * Returns 0 with the value in *out, or, leaving *out untouched:
 *   GG_ENOENT  o has no member `key`;
 *   GG_EINVAL  o is not an object (or NULL), or the member is not a
 *              number (a string such as "12" or "NaN", null, a boolean,
 *              an array, an object), or it is negative, not integral,
 *              not finite, or larger than max.
 * key must not be NULL.  Nothing is allocated; o stays the caller's.
 */
int json_get_u64(const cJSON *o, const char *key, uint64_t max, uint64_t *out);

/*
 * Checks JSON text [s, s+n) before it is parsed, for what cJSON lets
 * through: text that is not UTF-8 (RFC 8259 requires it; cJSON copies
 * the bytes as they are), a raw NUL byte, and a \u0000 escape (cJSON
 * decodes it into a NUL that silently cuts the string short, so
 * "a\u0000.gguf" would become "a").  Syntax is left to the parser.
 * Returns 0, or GG_EINVAL with *why (may be NULL) set to a static text
 * saying which.  Needs no NUL terminator; thread safe.
 */
int json_text_check(const char *s, size_t n, const char **why);

#endif
