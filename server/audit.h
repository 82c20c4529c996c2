/*
 * audit.h: the gateway's audit trail (audit.c).
 *
 * Every act of the upload gateway (a commit or plain upload published,
 * pending or failed; an overwrite an admin asked for; a branch or tag
 * created or deleted; every refusal), and every gateway token created or
 * revoked (tokens.h), is one record of the store's audit log (store.h,
 * store_audit_append), as JSON:
 *
 *   {"seq":12,"time":1764350000,"act":"commit","decision":"refused",
 *    "rule":"deletions need admin scope","by":"ci","client":"10.0.0.7",
 *    "type":"model","repo":"ruv/ruvltra","rev":"main","job":7,
 *    "files":[{"path":"x.gguf","size":1,"sha256":"<64 hex>"},
 *             {"path":"old.gguf","deleted":true}],
 *    "name":"v1","commit":"<40 hex>","message":"..."}
 *
 * seq and time come from the record's key and header; the other members
 * are present when they apply ("type" with "repo").  "by" is the token's
 * name: a token is never written.  A token act names the token in "name",
 * with its "scope", "repos" and "paths":
 *
 *   {"seq":13,"time":1764350100,"act":"token-add","decision":"created",
 *    "by":"root","client":"127.0.0.1","name":"ci","scope":"upload",
 *    "repos":["ruv/ruvltra"],"paths":["*.gguf"]}
 *  An audit write that fails is logged and does not undo the act.
 *
 * Thread safety: any thread (each write is its own transaction).
 */
#ifndef GG_AUDIT_H
#define GG_AUDIT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "index.h"
#include "journal.h"
#include "store.h"

struct audit_act {
	const char *act;      /* commit upload overwrite branch tag delete-branch delete-tag
				 token-add token-revoke */
	const char *decision; /* published pending failed refused allowed created deleted revoked */
	const char *rule;     /* the rule that decided, or NULL */
	const char *by;       /* the token's name, "" or NULL without one */
	const char *client;   /* the client's address, or NULL */
	enum repo_type type;
	const char *repo;
	const char *rev;              /* or NULL */
	const char *name;             /* a ref's or a token's name, or NULL */
	const struct upload_job *job; /* its id and files, or NULL */
	const char *commit;           /* the upstream commit, or NULL */
	const char *message;          /* why (a refusal's message), or NULL */
	const cJSON *extra;           /* more members, copied into the record, or NULL */
};

/* Appends a to st's audit log (and logs it at info level). */
void audit_write(struct store *st, const struct audit_act *a);

/*
 * The log as a JSON array of its records, oldest first: those after time
 * since (0: all) by token name token (NULL: any), the last
 * GG_AUDIT_LIST_MAX of them.  0 and *out (caller frees), or the store's
 * code.
 */
int audit_list(struct store *st, uint64_t since, const char *token, cJSON **out);

#endif
