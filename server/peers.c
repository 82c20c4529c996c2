/*
 * peers.c: rendezvous hashing of blobs to peers (see peers.h).
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "peers.h"

uint64_t
peers_weight(const char *key, const char *url)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t w = 0;

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, key, strlen(key)) != 1 ||
	    EVP_DigestUpdate(c, url, strlen(url)) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1 ||
	    mdlen < 8)
		log_fatalx("SHA-256 failed (OpenSSL)");
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 8; i++)
		w = (w << 8) | md[i];
	return w;
}

void
peers_rank(const char *key, const char *const *urls, size_t n, size_t *order)
{
	uint64_t w[GG_MAX_PEERS];

	if (n > GG_MAX_PEERS)
		n = GG_MAX_PEERS;
	for (size_t i = 0; i < n; i++) {
		w[i] = peers_weight(key, urls[i]);
		order[i] = i;
	}
	/* Insertion sort: n is small. */
	for (size_t i = 1; i < n; i++) {
		size_t k = order[i], j = i;
		while (j > 0 &&
		       (w[order[j - 1]] < w[k] || (w[order[j - 1]] == w[k] && order[j - 1] > k))) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = k;
	}
}
