/*
 * peers.h: which peer owns a blob, by rendezvous (highest random weight)
 * hashing.
 *
 * Every node of a cluster is given the same peer list (--peer URL,
 * repeatable).  A blob's owner is the peer with the highest weight
 *
 *   weight(peer) = the first 8 bytes, big-endian, of
 *                  SHA-256(sha256 hex of the blob || the peer's URL)
 *
 * (OpenSSL's SHA-256; the URL without trailing slashes), so every node
 * picks the same owner with no coordination, and removing or adding a
 * peer moves only the blobs that peer owned or takes.  When the owner is
 * down the next-highest weight is asked, and so on (upstream.c).
 *
 * Thread safety: pure functions.
 */
#ifndef GG_PEERS_H
#define GG_PEERS_H

#include <stddef.h>
#include <stdint.h>

#define GG_MAX_PEERS 64

/* The weight of url for the blob key (64 lowercase hex). */
uint64_t peers_weight(const char *key, const char *url);

/*
 * Fills order[0..n) with the indexes of urls[0..n) from the highest
 * weight for key to the lowest (ties: the lower index first).  n is at
 * most GG_MAX_PEERS.
 */
void peers_rank(const char *key, const char *const *urls, size_t n, size_t *order);

#endif
