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
