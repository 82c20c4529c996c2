/*
 * blob.c: immutable, content-addressed blob files.
 *
 * Invariants:
 *  - A file under blobs/sha256/ always holds exactly the bytes its name
 *    hashes to, fsynced, with its directory entry fsynced.  It is never
 *    written in place: a writer fills tmp/<random>.tmp, and publishing is
 *    rename(2), which is atomic.
 *  - tmp/ (*.tmp) files belong to live writers of this process; at open,
 *    any left from a crash are removed.  tmp/ (*.part) files are partial
 *    downloads kept across restarts by the fetcher and are left alone.
 *  - Names are built only from a validated 64-hex digest.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blob.h"
#include "log.h"
#include "util.h"

void (*blob_crash_hook)(const char *point);

/*
 * Open descriptors of recently served blobs (blob_open_cached), so that a
 * hit costs a dup(2) instead of a path walk and an open(2), as nginx's
 * open_file_cache does.  Direct-mapped by the blob's name; a descriptor
 * whose file was unlinked (by another process) is dropped when next seen;
 * every removal in this process (blob_remove, quarantine) drops it first,
 * so the space is freed at once (or, while a request borrows the
 * descriptor, when the last borrower is done).
 *
 * Small answers read through the cached descriptor itself (blob_borrow:
 * pread needs no file position, so no dup); a borrowed slot is neither
 * replaced nor closed until blob_borrow_put.
 */
#define FD_CACHE_SLOTS 1024
#define FD_RECHECK_US 1000000u /* a cached descriptor's file is looked at this often */

struct fd_slot {
	char sha256[GG_SHA256_HEX + 1]; /* "" while dead */
	int fd;                         /* -1: empty */
	unsigned users;                 /* borrowers (blob_borrow) */
	int dead;                       /* dropped: the last borrower closes fd */
	uint64_t size;
	uint64_t checked_us; /* when a borrow last saw its file still linked */
};

struct blob_store {
	char *root;
	char *blobs;      /* <root>/blobs/sha256 */
	char *tmp;        /* <root>/tmp */
	char *quarantine; /* <root>/quarantine */
	pthread_mutex_t fd_mu;
	struct fd_slot *fds; /* FD_CACHE_SLOTS */
};

struct blob_writer {
	struct blob_store *bs;
	int fd;
	char tmp_path[512];
	EVP_MD_CTX *sha256;
	EVP_MD_CTX *sha1; /* NULL when the size is not known */
	int64_t size_hint;
	uint64_t written;
	int failed; /* sticky: set on the first write error */
};

static void
crash_point(const char *point)
{
	if (blob_crash_hook != NULL)
		blob_crash_hook(point);
}

static int
remove_stale_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d == NULL)
		return GG_EIO;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char path[4096];
		if (n < 4 || strcmp(e->d_name + n - 4, ".tmp") != 0)
			continue;
		if (snprintf_checked(path, sizeof(path), "%s/%s", dir, e->d_name) != GG_OK)
			continue;
		if (unlink(path) == 0)
			log_info("removed unfinished temp file \"%s\"", path);
	}
	closedir(d);
	return GG_OK;
}

/* Removes the files of dir older than cutoff (mtime, unix seconds) whose
 * names end in one of the suffixes (NULL: any), counting them. */
static void
sweep_older(const char *dir, uint64_t cutoff, const char *const *suffixes, uint64_t *files,
	    uint64_t *bytes)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		int want = suffixes == NULL;
		char path[4096];
		struct stat sb;

		for (size_t i = 0; !want && suffixes[i] != NULL; i++) {
			size_t k = strlen(suffixes[i]);
			want = n > k && strcmp(e->d_name + n - k, suffixes[i]) == 0;
		}
		if (!want || e->d_name[0] == '.')
			continue;
		if (snprintf_checked(path, sizeof(path), "%s/%s", dir, e->d_name) != GG_OK)
			continue;
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (uint64_t)sb.st_mtime >= cutoff)
			continue;
		if (unlink(path) == 0) {
			log_info("removed stale \"%s\" (%llu bytes)", path,
				 (unsigned long long)sb.st_size);
			(*files)++;
			*bytes += (uint64_t)sb.st_size;
		}
	}
	closedir(d);
}

void
blob_sweep_stale(struct blob_store *bs, uint64_t tmp_cutoff, uint64_t quarantine_cutoff,
		 uint64_t *files, uint64_t *bytes)
{
	static const char *const partial[] = { ".part", ".asm", NULL };
	sweep_older(bs->tmp, tmp_cutoff, partial, files, bytes);
	sweep_older(bs->quarantine, quarantine_cutoff, NULL, files, bytes);
}

int
blob_store_open(const char *root, struct blob_store **out)
{
	struct blob_store *bs = xcalloc(1, sizeof(*bs));

	bs->root = xstrdup(root);
	pthread_mutex_init(&bs->fd_mu, NULL);
	bs->fds = xcalloc(FD_CACHE_SLOTS, sizeof(*bs->fds));
	for (size_t i = 0; i < FD_CACHE_SLOTS; i++)
		bs->fds[i].fd = -1;
	bs->blobs = xasprintf("%s/blobs/sha256", root);
	bs->tmp = xasprintf("%s/tmp", root);
	bs->quarantine = xasprintf("%s/quarantine", root);
	if (mkdir_p(bs->blobs) != GG_OK || mkdir_p(bs->tmp) != GG_OK ||
	    mkdir_p(bs->quarantine) != GG_OK)
		goto fail;
	remove_stale_tmp(bs->tmp);
	*out = bs;
	return GG_OK;
fail:
	blob_store_close(bs);
	return GG_EIO;
}

void
blob_store_close(struct blob_store *bs)
{
	if (bs == NULL)
		return;
	/* No borrower is left: requests end before the store closes. */
	for (size_t i = 0; bs->fds != NULL && i < FD_CACHE_SLOTS; i++)
		if (bs->fds[i].fd >= 0)
			close(bs->fds[i].fd);
	free(bs->fds);
	pthread_mutex_destroy(&bs->fd_mu);
	free(bs->quarantine);
	free(bs->tmp);
	free(bs->blobs);
	free(bs->root);
	free(bs);
}

static int
valid_digest(const char *sha256)
{
	return sha256 != NULL && strlen(sha256) == GG_SHA256_HEX &&
	       is_lower_hex(sha256, GG_SHA256_HEX);
}

static int
blob_dir(struct blob_store *bs, const char *sha256, char *buf, size_t n)
{
	return snprintf_checked(buf, n, "%s/%.2s", bs->blobs, sha256);
}

static int
blob_file(struct blob_store *bs, const char *sha256, char *buf, size_t n)
{
	return snprintf_checked(buf, n, "%s/%.2s/%s", bs->blobs, sha256, sha256);
}

int
blob_writer_open(struct blob_store *bs, int64_t size_hint, struct blob_writer **out)
{
	struct blob_writer *w = xcalloc(1, sizeof(*w));
	unsigned char rnd[12];
	char hex[25];

	w->bs = bs;
	w->fd = -1;
	w->size_hint = size_hint;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		log_warn("getrandom() failed");
		goto fail;
	}
	hex_encode(rnd, sizeof(rnd), hex);
	if (snprintf_checked(w->tmp_path, sizeof(w->tmp_path), "%s/%s.tmp", bs->tmp, hex) != GG_OK)
		goto fail;
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		log_warn("open(\"%s\") failed", w->tmp_path);
		goto fail;
	}
	w->sha256 = EVP_MD_CTX_new();
	if (w->sha256 == NULL || EVP_DigestInit_ex(w->sha256, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha256) failed");
	if (size_hint >= 0) {
		char head[32];
		int n = snprintf(head, sizeof(head), "blob %lld", (long long)size_hint);
		w->sha1 = EVP_MD_CTX_new();
		if (w->sha1 == NULL || EVP_DigestInit_ex(w->sha1, EVP_sha1(), NULL) != 1)
			log_fatalx("EVP_DigestInit_ex(sha1) failed");
		/* git hashes "blob <size>\0" before the content; n+1 takes the NUL. */
		EVP_DigestUpdate(w->sha1, head, (size_t)n + 1);
	}
	/* A full disk is refused now, before the body is read (see
	 * blob_partial_open). */
	if (size_hint > 0 && fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size_hint) != 0 &&
	    errno == ENOSPC) {
		log_warnx("no space left for an upload of %lld bytes", (long long)size_hint);
		blob_writer_abort(w);
		return GG_ENOSPC;
	}
	*out = w;
	return GG_OK;
fail:
	blob_writer_abort(w);
	return GG_EIO;
}

int
blob_writer_write(struct blob_writer *w, const void *data, size_t n)
{
	if (w->failed)
		return w->failed;
	if (w->size_hint >= 0 && w->written + n > (uint64_t)w->size_hint) {
		w->failed = GG_ETOOBIG;
		return w->failed;
	}
	if (write_all(w->fd, data, n) != GG_OK) {
		w->failed = errno == ENOSPC ? GG_ENOSPC : GG_EIO;
		log_warn("write(\"%s\") failed", w->tmp_path);
		return w->failed;
	}
	EVP_DigestUpdate(w->sha256, data, n);
	if (w->sha1 != NULL)
		EVP_DigestUpdate(w->sha1, data, n);
	w->written += n;
	return GG_OK;
}

static void
writer_free(struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	EVP_MD_CTX_free(w->sha256);
	EVP_MD_CTX_free(w->sha1);
	free(w);
}

void
blob_writer_abort(struct blob_writer *w)
{
	if (w == NULL)
		return;
	if (w->tmp_path[0] != '\0')
		unlink(w->tmp_path);
	writer_free(w);
}

int
blob_writer_finish(struct blob_writer *w, const char *expect_sha256, const char *expect_gitsha1,
		   struct blob_digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char dir[512], dst[600];
	struct blob_digest d;
	int r;

	memset(&d, 0, sizeof(d));
	if (w->failed) {
		r = w->failed;
		goto fail;
	}
	if (w->size_hint >= 0 && w->written != (uint64_t)w->size_hint) {
		r = GG_ECORRUPT;
		goto fail;
	}
	EVP_DigestFinal_ex(w->sha256, md, &mdlen);
	hex_encode(md, mdlen, d.sha256);
	if (w->sha1 != NULL) {
		EVP_DigestFinal_ex(w->sha1, md, &mdlen);
		hex_encode(md, mdlen, d.gitsha1);
	}
	d.size = w->written;
	if ((expect_sha256 != NULL && strcmp(expect_sha256, d.sha256) != 0) ||
	    (expect_gitsha1 != NULL && w->sha1 != NULL && strcmp(expect_gitsha1, d.gitsha1) != 0)) {
		log_warnx("blob content mismatch: expected %s, got sha256 %s",
			  expect_sha256 ? expect_sha256 : expect_gitsha1, d.sha256);
		r = GG_ECORRUPT;
		goto fail;
	}
	crash_point("written");
	if (fsync(w->fd) != 0) {
		log_warn("fsync(\"%s\") failed", w->tmp_path);
		r = GG_EIO;
		goto fail;
	}
	close(w->fd);
	w->fd = -1;
	crash_point("synced");
	if (blob_dir(w->bs, d.sha256, dir, sizeof(dir)) != GG_OK ||
	    blob_file(w->bs, d.sha256, dst, sizeof(dst)) != GG_OK) {
		r = GG_ETOOBIG;
		goto fail;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		log_warn("mkdir(\"%s\") failed", dir);
		r = GG_EIO;
		goto fail;
	}
	if (access(dst, F_OK) == 0) {
		/* Same name, same bytes: keep the existing file. */
		unlink(w->tmp_path);
	} else if (rename(w->tmp_path, dst) != 0) {
		log_warn("rename(\"%s\", \"%s\") failed", w->tmp_path, dst);
		r = GG_EIO;
		goto fail;
	}
	w->tmp_path[0] = '\0';
	crash_point("renamed");
	if (fsync_dir(dir) != GG_OK) {
		r = GG_EIO;
		goto fail;
	}
	if (out != NULL)
		*out = d;
	writer_free(w);
	return GG_OK;
fail:
	blob_writer_abort(w);
	return r;
}

int
blob_open(struct blob_store *bs, const char *sha256, int *fd, uint64_t *size)
{
	char path[600];
	struct stat st;
	int f;

	if (!valid_digest(sha256))
		return GG_EINVAL;
	if (blob_file(bs, sha256, path, sizeof(path)) != GG_OK)
		return GG_EINVAL;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? GG_ENOENT : GG_EIO;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return GG_EIO;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return GG_OK;
}

static struct fd_slot *
fd_slot_of(struct blob_store *bs, const char *sha256)
{
	/* The name is a hash already: its first hex digits spread evenly. */
	unsigned v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)(sha256[i] <= '9' ? sha256[i] - '0' : sha256[i] - 'a' + 10);
	return &bs->fds[v % FD_CACHE_SLOTS];
}

/* Empties a slot (under fd_mu): closed now, or by its last borrower. */
static void
fd_drop(struct fd_slot *e)
{
	e->sha256[0] = '\0';
	if (e->users > 0) {
		e->dead = 1;
		return;
	}
	close(e->fd);
	e->fd = -1;
}

/* The live slot of sha256, or NULL (under fd_mu). */
static struct fd_slot *
fd_live(struct blob_store *bs, const char *sha256)
{
	struct fd_slot *e = fd_slot_of(bs, sha256);
	return e->fd >= 0 && !e->dead && strcmp(e->sha256, sha256) == 0 ? e : NULL;
}

/* Caches a dup of fd for sha256 (under fd_mu), unless its slot is
 * borrowed. */
static void
fd_keep(struct blob_store *bs, const char *sha256, int fd, uint64_t size)
{
	struct fd_slot *e = fd_slot_of(bs, sha256);
	int d;

	if (e->users > 0 || (d = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	if (e->fd >= 0)
		close(e->fd);
	e->fd = d;
	e->dead = 0;
	e->size = size;
	e->checked_us = 0;
	memcpy(e->sha256, sha256, GG_SHA256_HEX + 1);
}

/* Drops the cached descriptor of sha256, if any (before its file goes). */
static void
fd_forget(struct blob_store *bs, const char *sha256)
{
	struct fd_slot *e;
	if (!valid_digest(sha256))
		return;
	pthread_mutex_lock(&bs->fd_mu);
	e = fd_slot_of(bs, sha256);
	if (e->fd >= 0 && !e->dead && strcmp(e->sha256, sha256) == 0)
		fd_drop(e);
	pthread_mutex_unlock(&bs->fd_mu);
}

int
blob_open_cached(struct blob_store *bs, const char *sha256, int *fd, uint64_t *size)
{
	struct blob_fd b;
	int r = blob_borrow(bs, sha256, &b);

	if (r != GG_OK)
		return r;
	if (b.slot < 0) { /* not cached: the borrower's own descriptor */
		*fd = b.fd;
		*size = b.size;
		return GG_OK;
	}
	*fd = fcntl(b.fd, F_DUPFD_CLOEXEC, 0);
	*size = b.size;
	blob_borrow_put(bs, &b);
	return *fd >= 0 ? GG_OK : GG_EIO;
}

/*
 * The system calls stay outside fd_mu: the slot is taken (users) under
 * it, and only then is the file checked (fstat: still linked?); a blob
 * another process removed is dropped from the cache and opened anew,
 * which finds it gone.
 */
int
blob_borrow(struct blob_store *bs, const char *sha256, struct blob_fd *out)
{
	struct fd_slot *e;
	struct stat st;
	int r, fd, check = 1;
	uint64_t size, now;

	out->fd = -1;
	out->slot = -1;
	if (!valid_digest(sha256))
		return GG_EINVAL;
	now = now_us();
	pthread_mutex_lock(&bs->fd_mu);
	if ((e = fd_live(bs, sha256)) != NULL) {
		e->users++;
		out->fd = e->fd;
		out->size = e->size;
		out->slot = (int)(e - bs->fds);
		/* Whether another process removed the file (then its space
		 * should go): asked at most once a second per blob, not at
		 * each of thousands of borrows a second.  Its bytes stay
		 * right either way: a blob's name is its content's hash. */
		check = now - e->checked_us >= FD_RECHECK_US;
		if (check)
			e->checked_us = now;
	}
	pthread_mutex_unlock(&bs->fd_mu);
	if (e != NULL) {
		if (!check || (fstat(out->fd, &st) == 0 && st.st_nlink > 0))
			return GG_OK;
		/* Removed by another process: let the space go. */
		pthread_mutex_lock(&bs->fd_mu);
		if (fd_live(bs, sha256) == e)
			fd_drop(e);
		pthread_mutex_unlock(&bs->fd_mu);
		blob_borrow_put(bs, out);
	}
	if ((r = blob_open(bs, sha256, &fd, &size)) != GG_OK)
		return r;
	pthread_mutex_lock(&bs->fd_mu);
	if (fd_live(bs, sha256) == NULL)
		fd_keep(bs, sha256, fd, size);
	if ((e = fd_live(bs, sha256)) != NULL) {
		e->users++;
		out->fd = e->fd;
		out->size = e->size;
		out->slot = (int)(e - bs->fds);
	}
	pthread_mutex_unlock(&bs->fd_mu);
	if (e != NULL) {
		close(fd);
		return GG_OK;
	}
	/* Its slot is lent for another blob: the descriptor opened here. */
	out->fd = fd;
	out->size = size;
	return GG_OK;
}

void
blob_borrow_put(struct blob_store *bs, struct blob_fd *b)
{
	struct fd_slot *e;

	if (b->fd < 0)
		return;
	if (b->slot < 0) {
		close(b->fd);
	} else {
		pthread_mutex_lock(&bs->fd_mu);
		e = &bs->fds[b->slot];
		if (--e->users == 0 && e->dead) {
			close(e->fd);
			e->fd = -1;
			e->dead = 0;
		}
		pthread_mutex_unlock(&bs->fd_mu);
	}
	b->fd = -1;
	b->slot = -1;
}

int
blob_exists(struct blob_store *bs, const char *sha256)
{
	char path[600];
	struct stat st;
	if (!valid_digest(sha256) || blob_file(bs, sha256, path, sizeof(path)) != GG_OK)
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * Reads fd to its end.  With w == NULL it hashes the bytes into *out; with
 * a writer it only feeds them to w, which hashes them itself, so a copy
 * reads and hashes each byte once.
 */
static int
hash_fd(int fd, uint64_t size, struct blob_writer *w, struct blob_digest *out)
{
	EVP_MD_CTX *c256 = EVP_MD_CTX_new(), *c1 = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char head[32];
	char *buf = xmalloc(GG_IO_CHUNK);
	uint64_t total = 0;
	int n, r = GG_OK;

	if (c256 == NULL || c1 == NULL || EVP_DigestInit_ex(c256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(c1, EVP_sha1(), NULL) != 1)
		log_fatalx("EVP digest init failed");
	n = snprintf(head, sizeof(head), "blob %llu", (unsigned long long)size);
	EVP_DigestUpdate(c1, head, (size_t)n + 1);
	for (;;) {
		ssize_t got = read(fd, buf, GG_IO_CHUNK);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = GG_EIO;
			goto done;
		}
		if (got == 0)
			break;
		if (w != NULL) {
			if ((r = blob_writer_write(w, buf, (size_t)got)) != GG_OK)
				goto done;
		} else {
			EVP_DigestUpdate(c256, buf, (size_t)got);
			EVP_DigestUpdate(c1, buf, (size_t)got);
		}
		total += (uint64_t)got;
	}
	if (total != size) {
		r = GG_ECORRUPT; /* the file changed size under us */
		goto done;
	}
	if (w != NULL)
		goto done;
	EVP_DigestFinal_ex(c256, md, &mdlen);
	hex_encode(md, mdlen, out->sha256);
	EVP_DigestFinal_ex(c1, md, &mdlen);
	hex_encode(md, mdlen, out->gitsha1);
	out->size = total;
done:
	free(buf);
	EVP_MD_CTX_free(c1);
	EVP_MD_CTX_free(c256);
	return r;
}

int
blob_rehash(struct blob_store *bs, const char *sha256, struct blob_digest *out)
{
	uint64_t size;
	int fd = -1, r;

	r = blob_open(bs, sha256, &fd, &size);
	if (r != GG_OK)
		return r;
	r = hash_fd(fd, size, NULL, out);
	close(fd);
	return r;
}

/*
 * The --link way in: the source's bytes become the blob without a copy,
 * as a reflink (a copy-on-write clone: later writes to the source do not
 * reach the blob) or, where the filesystem has none, a hard link (the blob
 * IS the source's inode: writing to the source in place would change the
 * blob, which ggufd verify reports).  The source is hashed first; a hard
 * link is refused if the file changed meanwhile (size, mtime, inode).
 * 0 with *out and *how, 1 when neither works here (the caller copies),
 * or GG_ECORRUPT / GG_EIO / GG_ETOOBIG.
 */
static int
import_linked(struct blob_store *bs, int sfd, const char *src, const struct stat *sst,
	      const char *expect_sha256, const char *expect_gitsha1, struct blob_digest *out,
	      const char **how)
{
	char dir[512], dst[600], tmp[512], hex[25];
	unsigned char rnd[12];
	struct blob_digest d;
	struct stat now;
	int tfd, r;

	if ((r = hash_fd(sfd, (uint64_t)sst->st_size, NULL, &d)) != GG_OK)
		return r;
	if ((expect_sha256 != NULL && strcmp(expect_sha256, d.sha256) != 0) ||
	    (expect_gitsha1 != NULL && strcmp(expect_gitsha1, d.gitsha1) != 0))
		return GG_ECORRUPT;
	if (blob_dir(bs, d.sha256, dir, sizeof(dir)) != GG_OK ||
	    blob_file(bs, d.sha256, dst, sizeof(dst)) != GG_OK)
		return GG_ETOOBIG;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		log_warn("mkdir(\"%s\") failed", dir);
		return GG_EIO;
	}
	*out = d;
	if (access(dst, F_OK) == 0) {
		*how = "already stored";
		return GG_OK;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return GG_EIO;
	hex_encode(rnd, sizeof(rnd), hex);
	if (snprintf_checked(tmp, sizeof(tmp), "%s/%s.tmp", bs->tmp, hex) != GG_OK)
		return GG_ETOOBIG;
	tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (tfd < 0)
		return GG_EIO;
	if (ioctl(tfd, FICLONE, sfd) == 0) {
		*how = "reflinked";
		r = fsync(tfd) == 0 ? GG_OK : GG_EIO;
		close(tfd);
	} else {
		close(tfd);
		unlink(tmp);
		if (link(src, tmp) != 0)
			return 1; /* another filesystem, or no links here: copy */
		*how = "hard-linked";
		r = GG_OK;
		if (stat(tmp, &now) != 0 || now.st_ino != sst->st_ino ||
		    now.st_size != sst->st_size || now.st_mtim.tv_sec != sst->st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != sst->st_mtim.tv_nsec) {
			log_warnx("\"%s\" changed while it was imported", src);
			r = GG_ECORRUPT;
		} else if (fsync(sfd) != 0) {
			r = GG_EIO;
		}
	}
	if (r == GG_OK && rename(tmp, dst) != 0) {
		log_warn("rename(\"%s\", \"%s\") failed", tmp, dst);
		r = GG_EIO;
	}
	if (r != GG_OK) {
		unlink(tmp);
		return r;
	}
	return fsync_dir(dir);
}

int
blob_import_path(struct blob_store *bs, const char *src, const char *expect_sha256,
		 const char *expect_gitsha1, int link_ok, struct blob_digest *out, const char **how)
{
	struct blob_writer *w = NULL;
	struct blob_digest d;
	struct stat st;
	int fd = -1, r;

	memset(&d, 0, sizeof(d));
	*how = "copied";
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("open(\"%s\") failed", src);
		return errno == ENOENT ? GG_ENOENT : GG_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_warnx("\"%s\" is not a regular file", src);
		r = GG_EINVAL;
		goto fail;
	}
	if (link_ok) {
		r = import_linked(bs, fd, src, &st, expect_sha256, expect_gitsha1, out, how);
		if (r != 1) {
			close(fd);
			return r;
		}
		/* Neither a reflink nor a hard link here: copy. */
		*how = "copied: no link possible across filesystems";
		if (lseek(fd, 0, SEEK_SET) != 0) {
			r = GG_EIO;
			goto fail;
		}
	}
	/* The one pass over the source both copies and hashes. */
	r = blob_writer_open(bs, (int64_t)st.st_size, &w);
	if (r != GG_OK)
		goto fail;
	r = hash_fd(fd, (uint64_t)st.st_size, w, &d);
	if (r != GG_OK)
		goto fail;
	close(fd);
	fd = -1;
	r = blob_writer_finish(w, expect_sha256, expect_gitsha1, out);
	w = NULL;
	return r;
fail:
	blob_writer_abort(w);
	if (fd >= 0)
		close(fd);
	return r;
}

int
blob_export(struct blob_store *bs, const char *sha256, const char *dst, int link_ok,
	    const char **how)
{
	char src[600], tmp[PATH_MAX], buf[1 << 16];
	struct stat st;
	int sfd = -1, tfd = -1, r = GG_EIO;
	uint64_t off = 0;

	*how = "copied";
	if (!valid_digest(sha256) || blob_file(bs, sha256, src, sizeof(src)) != GG_OK ||
	    snprintf_checked(tmp, sizeof(tmp), "%s.incomplete", dst) != GG_OK)
		return GG_EINVAL;
	if (lstat(dst, &st) == 0)
		return GG_EEXIST;
	if (link_ok) {
		if (link(src, dst) == 0) {
			*how = "hard-linked";
			return GG_OK;
		}
		if (errno == ENOENT && access(src, F_OK) != 0)
			return GG_ENOENT;
		if (errno == EEXIST)
			return GG_EEXIST;
		/* EXDEV (another filesystem), EPERM, EMLINK...: copy. */
	}
	if ((sfd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? GG_ENOENT : GG_EIO;
	if (fstat(sfd, &st) != 0)
		goto done;
	unlink(tmp); /* a leftover of an interrupted export */
	if ((tfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		log_warn("open(\"%s\") failed", tmp);
		goto done;
	}
	while (off < (uint64_t)st.st_size) {
		size_t n = (uint64_t)st.st_size - off < sizeof(buf)
				   ? (size_t)((uint64_t)st.st_size - off)
				   : sizeof(buf);
		if (pread_all(sfd, buf, n, off) != GG_OK || write_all(tfd, buf, n) != GG_OK) {
			log_warn("copying blob %s to \"%s\" failed", sha256, tmp);
			goto done;
		}
		off += n;
	}
	if (fsync(tfd) != 0 || close(tfd) != 0) {
		tfd = -1;
		goto done;
	}
	tfd = -1;
	if (rename(tmp, dst) != 0) {
		log_warn("rename(\"%s\", \"%s\") failed", tmp, dst);
		goto done;
	}
	r = GG_OK;
done:
	if (tfd >= 0)
		close(tfd);
	if (r != GG_OK)
		unlink(tmp);
	close(sfd);
	return r;
}

static int
move_or_remove(struct blob_store *bs, const char *sha256, int quarantine)
{
	char src[600], dst[600];

	if (!valid_digest(sha256) || blob_file(bs, sha256, src, sizeof(src)) != GG_OK)
		return GG_EINVAL;
	fd_forget(bs, sha256);
	if (!quarantine) {
		if (unlink(src) != 0)
			return errno == ENOENT ? GG_ENOENT : GG_EIO;
		return GG_OK;
	}
	if (snprintf_checked(dst, sizeof(dst), "%s/%s", bs->quarantine, sha256) != GG_OK)
		return GG_EINVAL;
	if (rename(src, dst) != 0)
		return errno == ENOENT ? GG_ENOENT : GG_EIO;
	/* Its age in quarantine starts now (gc's --quarantine-age). */
	if (utimensat(AT_FDCWD, dst, NULL, 0) != 0)
		log_warn("utimensat(\"%s\") failed", dst);
	fsync_dir(bs->quarantine);
	return GG_OK;
}

int
blob_quarantine(struct blob_store *bs, const char *sha256)
{
	return move_or_remove(bs, sha256, 1);
}

int
blob_remove(struct blob_store *bs, const char *sha256)
{
	return move_or_remove(bs, sha256, 0);
}

int
blob_foreach(struct blob_store *bs, int (*cb)(void *ctx, const char *sha256), void *ctx)
{
	DIR *top = opendir(bs->blobs);
	struct dirent *e;
	int r = GG_OK;

	if (top == NULL)
		return GG_EIO;
	while (r == GG_OK && (e = readdir(top)) != NULL) {
		char sub[600];
		DIR *d;
		struct dirent *f;
		if (strlen(e->d_name) != 2 || !is_lower_hex(e->d_name, 2))
			continue;
		if (snprintf_checked(sub, sizeof(sub), "%s/%s", bs->blobs, e->d_name) != GG_OK)
			continue;
		if ((d = opendir(sub)) == NULL)
			continue;
		while (r == GG_OK && (f = readdir(d)) != NULL) {
			if (valid_digest(f->d_name) && strncmp(f->d_name, e->d_name, 2) == 0)
				r = cb(ctx, f->d_name);
		}
		closedir(d);
	}
	closedir(top);
	return r;
}

void
blob_lfs_pointer_oid(const char *sha256, uint64_t size, char oid[GG_SHA1_HEX + 1],
		     size_t *pointer_size)
{
	char ptr[256], head[32];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int n, h;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	n = snprintf(ptr, sizeof(ptr),
		     "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %llu\n",
		     sha256, (unsigned long long)size);
	h = snprintf(head, sizeof(head), "blob %d", n);
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha1) failed");
	EVP_DigestUpdate(c, head, (size_t)h + 1);
	EVP_DigestUpdate(c, ptr, (size_t)n);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	hex_encode(md, mdlen, oid);
	if (pointer_size != NULL)
		*pointer_size = (size_t)n;
}

/* --- partial files -------------------------------------------------------- */

struct blob_partial {
	struct blob_store *bs;
	int fd;
	char key[GG_SHA256_HEX + 1];
	char path[512];
	uint64_t size;
	uint64_t len; /* bytes written: the writer's */
	/* The hash side, which may run on another thread than the writer
	 * (blob_partial_hash): it reads back bytes below a length the caller
	 * knows to be written and touches none of the writer's fields. */
	uint64_t hashed;
	char *hbuf;   /* GG_IO_CHUNK, allocated on the first blob_partial_hash */
	int hash_err; /* sticky: a read-back failed; verify says GG_EIO */
	EVP_MD_CTX *sha256;
	EVP_MD_CTX *sha1; /* only for a git-sha1 key (regular files) */
	int verified;     /* blob_partial_verify succeeded: digest is final */
	struct blob_digest digest;
};

static void
partial_hash_init(struct blob_partial *p)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "blob %llu", (unsigned long long)p->size);
	p->hashed = 0;
	if (EVP_DigestInit_ex(p->sha256, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex() failed");
	if (p->sha1 == NULL)
		return; /* an LFS key: sha256 alone decides */
	if (EVP_DigestInit_ex(p->sha1, EVP_sha1(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex() failed");
	EVP_DigestUpdate(p->sha1, head, (size_t)n + 1);
}

static void
partial_free(struct blob_partial *p)
{
	if (p->fd >= 0)
		close(p->fd);
	EVP_MD_CTX_free(p->sha256);
	EVP_MD_CTX_free(p->sha1);
	free(p->hbuf);
	free(p);
}

int
blob_partial_open(struct blob_store *bs, const char *key, uint64_t size, struct blob_partial **out,
		  uint64_t *have)
{
	struct blob_partial *p;
	struct stat st;
	size_t kl = key ? strlen(key) : 0;
	char *buf = NULL;
	uint64_t off = 0;
	int r = GG_EIO;

	if ((kl != GG_SHA256_HEX && kl != GG_SHA1_HEX) || !is_lower_hex(key, kl))
		return GG_EINVAL;
	p = xcalloc(1, sizeof(*p));
	p->bs = bs;
	p->size = size;
	memcpy(p->key, key, kl + 1);
	p->sha256 = EVP_MD_CTX_new();
	p->sha1 = kl == GG_SHA1_HEX ? EVP_MD_CTX_new() : NULL;
	if (p->sha256 == NULL || (kl == GG_SHA1_HEX && p->sha1 == NULL))
		log_fatalx("EVP_MD_CTX_new() failed: out of memory");
	partial_hash_init(p);
	if (snprintf_checked(p->path, sizeof(p->path), "%s/%s.part", bs->tmp, key) != GG_OK)
		goto fail;
	p->fd = open(p->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		log_warn("open(\"%s\") failed", p->path);
		goto fail;
	}
	if (fstat(p->fd, &st) != 0)
		goto fail;
	if ((uint64_t)st.st_size > size && ftruncate(p->fd, 0) != 0)
		goto fail;
	if ((uint64_t)st.st_size <= size && st.st_size > 0) {
		/* Resume: the hash state is rebuilt from the bytes kept. */
		buf = xmalloc(GG_IO_CHUNK);
		while (off < (uint64_t)st.st_size) {
			ssize_t got = pread(p->fd, buf, GG_IO_CHUNK, (off_t)off);
			if (got <= 0)
				break;
			EVP_DigestUpdate(p->sha256, buf, (size_t)got);
			if (p->sha1 != NULL)
				EVP_DigestUpdate(p->sha1, buf, (size_t)got);
			off += (uint64_t)got;
		}
		free(buf);
		if (ftruncate(p->fd, (off_t)off) != 0)
			goto fail;
	}
	/* Claim the disk space now, so that a full disk is an error before the
	 * first byte goes out rather than a cut transfer (blocks only: the
	 * size stays what landed; filesystems without fallocate skip it). */
	if (size > off &&
	    fallocate(p->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)(size - off)) != 0) {
		if (errno == ENOSPC) {
			log_warnx("no space left for %s (%llu bytes)", p->path,
				  (unsigned long long)(size - off));
			unlink(p->path);
			r = GG_ENOSPC;
			goto fail;
		}
	}
	p->len = off;
	p->hashed = off;
	if (off > 0)
		log_info("resuming partial %s at %llu of %llu bytes", key, (unsigned long long)off,
			 (unsigned long long)size);
	*have = off;
	*out = p;
	return GG_OK;
fail:
	partial_free(p);
	return r;
}

int
blob_partial_write(struct blob_partial *p, const void *data, size_t n)
{
	if (n > p->size - p->len)
		return GG_ETOOBIG;
	if (pwrite(p->fd, data, n, (off_t)p->len) != (ssize_t)n) {
		int e = errno;
		log_warn("pwrite(\"%s\") failed", p->path);
		return e == ENOSPC ? GG_ENOSPC : GG_EIO;
	}
	p->len += n;
	return GG_OK;
}

/*
 * The bytes are hashed as read back from the file, not as handed to
 * blob_partial_write: the hash can then follow the writer on another
 * thread without a copy of the data between them (the page cache is the
 * buffer), and what is verified is what the file holds.
 */
int
blob_partial_hash(struct blob_partial *p, uint64_t upto)
{
	if (p->hash_err)
		return GG_EIO;
	if (p->hbuf == NULL)
		p->hbuf = xmalloc(GG_IO_CHUNK);
	while (p->hashed < upto) {
		uint64_t want = upto - p->hashed;
		ssize_t got = pread(p->fd, p->hbuf, want < GG_IO_CHUNK ? (size_t)want : GG_IO_CHUNK,
				    (off_t)p->hashed);
		if (got <= 0) {
			if (got < 0)
				log_warn("pread(\"%s\") at %llu failed", p->path,
					 (unsigned long long)p->hashed);
			else
				log_warnx("pread(\"%s\") at %llu: the file is shorter than "
					  "written",
					  p->path, (unsigned long long)p->hashed);
			p->hash_err = 1;
			return GG_EIO;
		}
		EVP_DigestUpdate(p->sha256, p->hbuf, (size_t)got);
		if (p->sha1 != NULL)
			EVP_DigestUpdate(p->sha1, p->hbuf, (size_t)got);
		p->hashed += (uint64_t)got;
	}
	return GG_OK;
}

void
blob_partial_hash_data(struct blob_partial *p, const void *data, size_t n)
{
	EVP_DigestUpdate(p->sha256, data, n);
	if (p->sha1 != NULL)
		EVP_DigestUpdate(p->sha1, data, n);
	p->hashed += n;
}

uint64_t
blob_partial_hashed(const struct blob_partial *p)
{
	return p->hashed;
}

int
blob_partial_reset(struct blob_partial *p)
{
	if (ftruncate(p->fd, 0) != 0)
		return GG_EIO;
	p->len = 0;
	p->hash_err = 0;
	partial_hash_init(p);
	return GG_OK;
}

uint64_t
blob_partial_length(const struct blob_partial *p)
{
	return p->len;
}

const char *
blob_partial_path(const struct blob_partial *p)
{
	return p->path;
}

int
blob_partial_verify(struct blob_partial *p, struct blob_digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml;

	if (p->verified) {
		if (out != NULL)
			*out = p->digest;
		return GG_OK;
	}
	if (p->len != p->size)
		return GG_ECORRUPT;
	/* Whatever no hashing thread covered (all of it for a writer that
	 * hashes nothing itself). */
	if (blob_partial_hash(p, p->len) != GG_OK)
		return GG_EIO;
	memset(&p->digest, 0, sizeof(p->digest));
	EVP_DigestFinal_ex(p->sha256, md, &ml);
	hex_encode(md, ml, p->digest.sha256);
	if (p->sha1 != NULL) {
		EVP_DigestFinal_ex(p->sha1, md, &ml);
		hex_encode(md, ml, p->digest.gitsha1);
	}
	p->digest.size = p->len;
	if (strcmp(p->key, p->sha1 != NULL ? p->digest.gitsha1 : p->digest.sha256) != 0) {
		log_warnx("download of %s does not match its hash (got sha256 %s): discarded",
			  p->key, p->digest.sha256);
		/* The hash contexts are spent: reset so nothing can pass later. */
		p->len = 0;
		partial_hash_init(p);
		return GG_ECORRUPT;
	}
	p->verified = 1;
	if (out != NULL)
		*out = p->digest;
	return GG_OK;
}

int
blob_partial_finish(struct blob_partial *p, struct blob_digest *out)
{
	struct blob_digest d;
	char dir[512], dst[600];
	int r;

	if ((r = blob_partial_verify(p, &d)) != GG_OK)
		goto discard;
	if (fsync(p->fd) != 0) {
		log_warn("fsync(\"%s\") failed", p->path);
		r = GG_EIO;
		goto discard;
	}
	if (blob_dir(p->bs, d.sha256, dir, sizeof(dir)) != GG_OK ||
	    blob_file(p->bs, d.sha256, dst, sizeof(dst)) != GG_OK) {
		r = GG_ETOOBIG;
		goto discard;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		r = GG_EIO;
		goto discard;
	}
	if (rename(p->path, dst) != 0) {
		log_warn("rename(\"%s\", \"%s\") failed", p->path, dst);
		r = GG_EIO;
		goto discard;
	}
	if ((r = fsync_dir(dir)) != GG_OK) {
		partial_free(p);
		return r;
	}
	if (out != NULL)
		*out = d;
	partial_free(p);
	return GG_OK;
discard:
	unlink(p->path);
	partial_free(p);
	return r;
}

void
blob_partial_close(struct blob_partial *p)
{
	if (p != NULL)
		partial_free(p);
}

void
blob_partial_discard(struct blob_partial *p)
{
	if (p == NULL)
		return;
	unlink(p->path);
	partial_free(p);
}

/* --- multipart assembly ------------------------------------------------------ */

struct blob_asm_part {
	int fd;
	uint64_t offset, len, done;
	EVP_MD_CTX *md;
};

static int
asm_path(struct blob_store *bs, const char *sha256, char *buf, size_t n)
{
	if (!valid_digest(sha256))
		return GG_EINVAL;
	return snprintf_checked(buf, n, "%s/%s.asm", bs->tmp, sha256);
}

int
blob_asm_part_open(struct blob_store *bs, const char *sha256, uint64_t size, uint64_t offset,
		   uint64_t len, struct blob_asm_part **out)
{
	struct blob_asm_part *p;
	struct stat st;
	char path[512];
	int fd;

	if (asm_path(bs, sha256, path, sizeof(path)) != GG_OK || offset > size ||
	    len > size - offset)
		return GG_EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_warn("open(\"%s\") failed", path);
		return GG_EIO;
	}
	if (fstat(fd, &st) != 0 ||
	    ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) != 0)) {
		close(fd);
		return GG_EIO;
	}
	p = xcalloc(1, sizeof(*p));
	p->fd = fd;
	p->offset = offset;
	p->len = len;
	p->md = EVP_MD_CTX_new();
	if (p->md == NULL || EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1)
		log_fatalx("EVP_DigestInit_ex(sha256) failed");
	*out = p;
	return GG_OK;
}

int
blob_asm_part_write(struct blob_asm_part *p, const void *data, size_t n)
{
	if (n > p->len - p->done)
		return GG_ETOOBIG;
	if (pwrite(p->fd, data, n, (off_t)(p->offset + p->done)) != (ssize_t)n)
		return errno == ENOSPC ? GG_ENOSPC : GG_EIO;
	EVP_DigestUpdate(p->md, data, n);
	p->done += n;
	return GG_OK;
}

void
blob_asm_part_abort(struct blob_asm_part *p)
{
	if (p == NULL)
		return;
	close(p->fd);
	EVP_MD_CTX_free(p->md);
	free(p);
}

int
blob_asm_part_finish(struct blob_asm_part *p, char etag[GG_SHA256_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml;
	int r = GG_OK;

	if (p->done != p->len) {
		r = GG_ECORRUPT;
	} else {
		EVP_DigestFinal_ex(p->md, md, &ml);
		hex_encode(md, ml, etag);
	}
	blob_asm_part_abort(p);
	return r;
}

int
blob_asm_finish(struct blob_store *bs, const char *sha256, uint64_t size, struct blob_digest *out)
{
	struct blob_writer *w = NULL;
	char path[512];
	struct stat st;
	int fd, r;

	if (asm_path(bs, sha256, path, sizeof(path)) != GG_OK)
		return GG_EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? GG_ENOENT : GG_EIO;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size) {
		close(fd);
		unlink(path);
		return GG_ECORRUPT;
	}
	/* One pass: copy into a writer, which hashes, checks and publishes. */
	if ((r = blob_writer_open(bs, (int64_t)size, &w)) != GG_OK) {
		close(fd);
		return r;
	}
	{
		struct blob_digest d;
		r = hash_fd(fd, size, w, &d);
	}
	close(fd);
	if (r != GG_OK) {
		blob_writer_abort(w);
		return r;
	}
	r = blob_writer_finish(w, sha256, NULL, out);
	unlink(path);
	return r;
}
