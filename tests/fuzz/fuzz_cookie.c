/*
 * cookie_get() over arbitrary Cookie header values.
 *
 * Properties: a found value lies inside the header and holds no ';'; the
 * outputs are cleared when nothing is found; and the cookie-tossing rule
 * holds: appending "; NAME=v" to a header turns "absent" into exactly "v"
 * and "found" into PARSE_INVALID (a duplicate never picks a session).
 */
#include <string.h>

#include "cookie.h"
#include "fuzz.h"

static const char *const cookie_names[] = {
	"authgate", "authgate_csrf", "__Host-authgate", "__Host-authgate_csrf",
	"a", "",
};

static void check_name(const char *header, size_t len, const char *name)
{
	static const char tossed_value[] = "tossed", sentinel[] = "unset";
	const char *value = sentinel;
	size_t value_len = 99, name_len = strlen(name), tossed_len;
	enum parse_result r;
	char *tossed;
	const char *v2;
	size_t v2_len;
	enum parse_result r2;

	r = cookie_get(header, len, name, &value, &value_len);
	FUZZ_ASSERT(r == PARSE_OK || r == PARSE_ABSENT || r == PARSE_INVALID);
	if (r == PARSE_OK) {
		FUZZ_ASSERT(value != NULL);
		FUZZ_ASSERT(fuzz_within(header, len, value, value_len));
		FUZZ_ASSERT(memchr(value, ';', value_len) == NULL);
	} else {
		FUZZ_ASSERT(value == NULL && value_len == 0);
	}

	/* header + "; " + name + "=" + tossed_value, in an exact buffer. */
	tossed_len = len + 2 + name_len + 1 + sizeof(tossed_value) - 1;
	tossed = fuzz_alloc(tossed_len);
	if (len > 0)
		memcpy(tossed, header, len);
	memcpy(tossed + len, "; ", 2);
	memcpy(tossed + len + 2, name, name_len);
	tossed[len + 2 + name_len] = '=';
	memcpy(tossed + len + 3 + name_len, tossed_value,
	       sizeof(tossed_value) - 1);

	r2 = cookie_get(tossed, tossed_len, name, &v2, &v2_len);
	if (r == PARSE_ABSENT) {
		FUZZ_ASSERT(r2 == PARSE_OK);
		FUZZ_ASSERT(v2_len == sizeof(tossed_value) - 1 &&
			    memcmp(v2, tossed_value, v2_len) == 0);
	} else {
		FUZZ_ASSERT(r2 == PARSE_INVALID);
	}
	free(tossed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_dup(data, size);
	size_t i;

	for (i = 0; i < AG_ARRAY_LEN(cookie_names); i++)
		check_name(header, size, cookie_names[i]);
	free(header);
	return 0;
}
