/* Percent-encoding (RFC 3986) and decoding of URL components. Pure. */
#ifndef AUTHGATE_PERCENT_H
#define AUTHGATE_PERCENT_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

/*
 * Decodes `in[0..in_len)` into `out` (capacity `out_cap`, not NUL-terminated)
 * and stores the decoded length in `*out_len`. With `plus_is_space`, '+'
 * decodes to ' ' (form bodies and query strings). A '%' not followed by two
 * hex digits is PARSE_INVALID; output longer than out_cap is PARSE_TOO_LONG.
 * Decoded bytes may be anything, NUL included: validate them afterwards.
 */
enum parse_result percent_decode(const char *in, size_t in_len, char *out,
				 size_t out_cap, size_t *out_len,
				 bool plus_is_space) AG_MUST_CHECK;

/*
 * Decodes the one byte that starts at `in[*pos]` (requires *pos < in_len):
 * "%XX" gives its value, '+' gives ' ' with `plus_is_space`, any other byte
 * is itself. Stores it in `*byte` and moves `*pos` past what it read. False,
 * leaving `*pos` and `*byte` alone, for a '%' not followed by two hex digits
 * before in_len. For walking an encoded string without an output buffer;
 * percent_decode() is this in a loop.
 */
bool percent_decode_next(const char *in, size_t in_len, size_t *pos,
			 bool plus_is_space, unsigned char *byte) AG_MUST_CHECK;

/*
 * Encodes every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~)
 * as %XX (upper-case hex), so the result is safe as a query-string value.
 * Writes a NUL-terminated string into `out`; PARSE_TOO_LONG if it does not
 * fit, including the NUL.
 */
enum parse_result percent_encode(const char *in, size_t in_len, char *out,
				 size_t out_cap, size_t *out_len) AG_MUST_CHECK;

#endif
