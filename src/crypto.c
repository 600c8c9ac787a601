#include "crypto.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sys/random.h>

/* OpenSSL 3 looks EVP_sha256() up in its provider store, under a lock,
 * on every use; a check hashes up to four times, so look it up once.
 * Freed never: it lives as long as the process. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

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

	pthread_once(&sha256_once, fetch_sha256);
	EVP_Digest(data, len, out, &out_len,
		   sha256_md != NULL ? sha256_md : EVP_sha256(), NULL);
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
