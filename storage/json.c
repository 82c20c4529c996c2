/*
 * json.c: validated reads of fields from parsed JSON (see json.h).
 *
 * cJSON keeps a number as a double (valueint is a saturated copy, never
 * used here).  A double is trusted as an integer only after it is shown to
 * lie in [0, max] with max <= 2^53, where every integer is exact and the
 * conversion to uint64_t cannot overflow; the comparisons are written so
 * that NaN, which fails every comparison, is refused by them too.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "util.h"

int
json_get_u64(const cJSON *o, const char *key, uint64_t max, uint64_t *out)
{
	const cJSON *v;
	double d;
	uint64_t u;

	assert(key != NULL);
	if (!cJSON_IsObject(o))
		return GG_EINVAL;
	v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v == NULL)
		return GG_ENOENT;
	if (!cJSON_IsNumber(v))
		return GG_EINVAL;
	if (max > JSON_MAX_EXACT_INT)
		max = JSON_MAX_EXACT_INT;
	d = v->valuedouble;
	/* (double)max is exact (max <= 2^53); NaN and infinities fail here. */
	if (!(d >= 0.0 && d <= (double)max))
		return GG_EINVAL;
	u = (uint64_t)d;
	if ((double)u != d)
		return GG_EINVAL; /* not integral */
	*out = u;
	return GG_OK;
}

int
json_text_check(const char *s, size_t n, const char **why)
{
	const char *w = NULL;

	if (n > 0 && memchr(s, '\0', n) != NULL) {
		w = "a NUL byte in the JSON text";
		goto done;
	}
	if (!utf8_valid(s, n)) {
		w = "JSON text that is not UTF-8";
		goto done;
	}
	/* A backslash escapes the next byte, so only a "\u0000" reached by
	 * stepping over escapes is one (not "\\u0000", a backslash and "u0000"). */
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && n - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0) {
			w = "a \\u0000 (NUL) escape in a JSON string";
			goto done;
		}
		i++; /* the escaped byte */
	}
done:
	if (why != NULL)
		*why = w;
	return w == NULL ? GG_OK : GG_EINVAL;
}
