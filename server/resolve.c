/*
 * resolve.c: HEAD/GET /{repo}/resolve/{rev}/{path} and /raw/, answered
 * from the store with no redirect (HF-PROTOCOL.md 2.8).
 *
 *   HTTP/1.1 200 OK                         HTTP/1.1 206 Partial Content
 *   Content-Length: 2825940544              Content-Range: bytes 0-0/2825940544
 *   Content-Type: application/octet-stream  Content-Length: 1
 *   Accept-Ranges: bytes                    (same identity headers)
 *   ETag: "<sha256>"          (LFS) or "<git blob sha1>" (regular file)
 *   X-Linked-Etag: "<sha256>"               (LFS only)
 *   X-Linked-Size: 2825940544               (LFS only)
 *   X-Repo-Commit: <40 hex>
 *   Content-Disposition: inline; filename*=UTF-8''<name>; filename="<name>"
 *
 * HEAD carries exactly the GET headers with the real Content-Length.
 * A single range is an fd response at an offset (sendfile); several
 * ranges are multipart/byteranges read with pread from one fd, with an
 * exact Content-Length.  Memory per response is constant.
 *
 * /raw/ serves the git blob: for an LFS file that is the pointer text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "handlers.h"
#include "log.h"
#include "range.h"

struct multipart {
	int fd;
	size_t n;
	struct range_part parts[GG_MAX_RANGES];
	char tail[128];
	size_t tail_len;
};

/*
 * Reader for multipart bodies: maps the absolute body offset `pos` onto
 * (part head | part bytes)* tail.  MHD asks sequentially.
 */
static ssize_t
multipart_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct multipart *m = cls;
	uint64_t at = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct range_part *p = &m->parts[i];
		uint64_t len = p->last - p->first + 1;
		if (pos < at + p->head_len) {
			size_t off = (size_t)(pos - at), c = p->head_len - off;
			if (c > max)
				c = max;
			memcpy(out, p->head + off, c);
			return (ssize_t)c;
		}
		at += p->head_len;
		if (pos < at + len) {
			uint64_t off = pos - at, c = len - off;
			ssize_t got;
			if (c > max)
				c = max;
			got = pread(m->fd, out, (size_t)c, (off_t)(p->first + off));
			if (got <= 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			return got;
		}
		at += len;
	}
	if (pos < at + m->tail_len) {
		size_t off = (size_t)(pos - at), c = m->tail_len - off;
		if (c > max)
			c = max;
		memcpy(out, m->tail + off, c);
		return (ssize_t)c;
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void
multipart_free(void *cls)
{
	struct multipart *m = cls;
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* The file's base name as a Content-Disposition value (RFC 6266). */
static void
add_disposition(struct MHD_Response *resp, const char *path)
{
	const char *name = strrchr(path, '/');
	char ascii[256], enc[768], hdr[1100];
	size_t a = 0, e = 0;

	name = name ? name + 1 : path;
	for (const unsigned char *p = (const unsigned char *)name; *p && a < sizeof(ascii) - 1; p++)
		ascii[a++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') ? (char)*p : '_';
	ascii[a] = '\0';
	for (const unsigned char *p = (const unsigned char *)name; *p && e < sizeof(enc) - 4; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) != NULL) {
			enc[e++] = (char)*p;
		} else {
			static const char hx[] = "0123456789ABCDEF";
			enc[e++] = '%';
			enc[e++] = hx[*p >> 4];
			enc[e++] = hx[*p & 15];
		}
	}
	enc[e] = '\0';
	if (snprintf_checked(hdr, sizeof(hdr), "inline; filename*=UTF-8''%s; filename=\"%s\"", enc,
			     ascii) == GG_OK)
		MHD_add_response_header(resp, "Content-Disposition", hdr);
}

struct identity {
	const char *commit;
	const struct index_file *f;
	char etag[GG_SHA256_HEX + 3];
	int raw;
	const char *path;
};

static void
add_identity(struct MHD_Response *resp, const struct identity *id, uint64_t size)
{
	char num[32];

	MHD_add_response_header(resp, "ETag", id->etag);
	MHD_add_response_header(resp, "X-Repo-Commit", id->commit);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	if ((id->f->flags & INDEX_FILE_LFS) && !id->raw) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		MHD_add_response_header(resp, "X-Linked-Etag", id->etag);
		MHD_add_response_header(resp, "X-Linked-Size", num);
	}
	if (!id->raw)
		add_disposition(resp, id->path);
}

static enum MHD_Result
serve_memory(struct req *r, const struct identity *id, const char *data, size_t len)
{
	struct byte_range rs[GG_MAX_RANGES];
	const char *range = http_header(r, "Range");
	size_t nr = 0;
	enum range_outcome o;
	struct MHD_Response *resp;
	char cr[96];

	if (!range_if_range_ok(http_header(r, "If-Range"), id->etag))
		range = NULL;
	o = range_parse(range, range ? range + strlen(range) : NULL, len, rs, GG_MAX_RANGES, &nr);
	if (o == RANGE_UNSATISFIABLE) {
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		snprintf(cr, sizeof(cr), "bytes */%zu", len);
		MHD_add_response_header(resp, "Content-Range", cr);
		add_identity(resp, id, len);
		return http_queue(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	}
	if (o == RANGE_PARTIAL) {
		/* Pointer texts are tiny: one range (the first) is enough. */
		resp = MHD_create_response_from_buffer((size_t)(rs[0].last - rs[0].first + 1),
						       (void *)(data + rs[0].first),
						       MHD_RESPMEM_MUST_COPY);
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%zu", (unsigned long long)rs[0].first,
			 (unsigned long long)rs[0].last, len);
		MHD_add_response_header(resp, "Content-Range", cr);
		MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
		add_identity(resp, id, len);
		return http_queue(r, MHD_HTTP_PARTIAL_CONTENT, resp);
	}
	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	add_identity(resp, id, len);
	return http_queue(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result
serve_blob(struct req *r, const struct identity *id, int fd, uint64_t size)
{
	struct byte_range rs[GG_MAX_RANGES];
	const char *range = http_header(r, "Range");
	const char *ctype = id->raw ? "text/plain; charset=utf-8" : "application/octet-stream";
	size_t nr = 0;
	enum range_outcome o;
	struct MHD_Response *resp = NULL;
	unsigned status;
	char cr[96];

	if (!range_if_range_ok(http_header(r, "If-Range"), id->etag))
		range = NULL;
	if (range != NULL && strlen(range) > GG_MAX_RANGE_HDR_LEN)
		range = NULL; /* an abusive header: serve the whole entity */
	o = range_parse(range, range ? range + strlen(range) : NULL, size, rs, GG_MAX_RANGES, &nr);
	switch (o) {
	case RANGE_UNSATISFIABLE:
		close(fd);
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
		MHD_add_response_header(resp, "Content-Range", cr);
		add_identity(resp, id, size);
		return http_queue(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	case RANGE_PARTIAL:
		if (nr == 1) {
			resp = MHD_create_response_from_fd_at_offset64(rs[0].last - rs[0].first + 1,
								       fd, rs[0].first);
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
				 (unsigned long long)rs[0].first, (unsigned long long)rs[0].last,
				 (unsigned long long)size);
			MHD_add_response_header(resp, "Content-Range", cr);
			MHD_add_response_header(resp, "Content-Type", ctype);
		} else {
			struct multipart *m = xcalloc(1, sizeof(*m));
			unsigned char rnd[12];
			char boundary[32], ct[96];
			uint64_t total;

			m->fd = fd;
			m->n = nr;
			if (RAND_bytes(rnd, sizeof(rnd)) != 1)
				log_fatalx("RAND_bytes() failed");
			hex_encode(rnd, sizeof(rnd), boundary);
			if (range_multipart_plan(rs, nr, size, ctype, boundary, m->parts, m->tail,
						 sizeof(m->tail), &m->tail_len, &total) != GG_OK) {
				multipart_free(m);
				return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
						  "Range layout failed", NULL);
			}
			resp = MHD_create_response_from_callback(total, 64 * 1024, multipart_read, m,
								 multipart_free);
			snprintf(ct, sizeof(ct), "multipart/byteranges; boundary=%s", boundary);
			MHD_add_response_header(resp, "Content-Type", ct);
		}
		status = MHD_HTTP_PARTIAL_CONTENT;
		break;
	default:
		resp = MHD_create_response_from_fd_at_offset64(size, fd, 0);
		MHD_add_response_header(resp, "Content-Type", ctype);
		status = MHD_HTTP_OK;
		break;
	}
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	add_identity(resp, id, size);
	return http_queue(r, status, resp);
}

enum MHD_Result
handle_resolve(struct req *r)
{
	struct store *st = http_store(r);
	struct index_txn *t = NULL;
	struct index_file f;
	struct identity id;
	char commit[GG_SHA1_HEX + 1];
	enum MHD_Result result;
	uint64_t size;
	int fd = -1, rc;

	if (http_resolve_commit(r, &t, commit, &result) != GG_OK)
		return result;
	rc = index_file_get(t, r->route.type, r->route.repo, commit, r->route.path, &f);
	index_txn_abort(t);
	if (rc == GG_ENOENT || rc == GG_EINVAL)
		return http_error(r, MHD_HTTP_NOT_FOUND, "EntryNotFound", "Entry not found", commit);
	if (rc != GG_OK)
		return http_error_from(r, rc, "index lookup");

	memset(&id, 0, sizeof(id));
	id.commit = commit;
	id.f = &f;
	id.raw = r->route.kind == ROUTE_RAW;
	id.path = r->route.path;
	snprintf(id.etag, sizeof(id.etag), "\"%s\"",
		 (f.flags & INDEX_FILE_LFS) && !id.raw ? f.sha256 : f.oid);

	if (range_if_none_match(http_header(r, "If-None-Match"), id.etag)) {
		struct MHD_Response *resp =
			MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		add_identity(resp, &id, f.size);
		return http_queue(r, MHD_HTTP_NOT_MODIFIED, resp);
	}
	if (id.raw && (f.flags & INDEX_FILE_LFS)) {
		char ptr[256];
		int n = snprintf(ptr, sizeof(ptr),
				 "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %llu\n",
				 f.sha256, (unsigned long long)f.size);
		return serve_memory(r, &id, ptr, (size_t)n);
	}
	rc = blob_open(st->blobs, f.sha256, &fd, &size);
	if (rc == GG_ENOENT)
		return http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
				  "File content is not in the store", commit);
	if (rc != GG_OK)
		return http_error_from(r, rc, "blob open");
	if (size != f.size) {
		close(fd);
		log_warnx("blob %s has %llu bytes, index says %llu: run ggufd verify", f.sha256,
			  (unsigned long long)size, (unsigned long long)f.size);
		return http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "Blob size mismatch",
				  commit);
	}
	return serve_blob(r, &id, fd, size);
}
