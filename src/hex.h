/* Lower-case hexadecimal, as PostgreSQL writes bytea and as NOTIFY
 * payloads carry hashes. Pure. */
#ifndef AUTHGATE_HEX_H
#define AUTHGATE_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/*
 * Decodes exactly `out_len` bytes from the `2 * out_len` characters at
 * `hex` (lower-case digits only; `hex` needs no NUL). False, with `out`
 * partly written, on any other character. Reads no more than 2 * out_len
 * characters: the caller checks the length first.
 */
bool hex_decode(const char *hex, uint8_t *out, size_t out_len) AG_MUST_CHECK;

#endif
