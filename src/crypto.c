#include "crypto.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

int crypto_random(uint8_t *out, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(out + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int out_len = SHA256_LEN;

	EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL);
}

void crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
			size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int out_len = SHA256_LEN;

	HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
