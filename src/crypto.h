/* Randomness, SHA-256, HMAC and constant-time comparison (libcrypto). */
#ifndef AUTHGATE_CRYPTO_H
#define AUTHGATE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define SHA256_LEN 32

/* Fills `out` from the kernel CSPRNG (getrandom). 0 or -1. */
int crypto_random(uint8_t *out, size_t len) AG_MUST_CHECK;

void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

void crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
			size_t len, uint8_t out[SHA256_LEN]);

/* Compares in time that depends only on `len`, never on the content. */
bool crypto_equal(const void *a, const void *b, size_t len);

#endif
