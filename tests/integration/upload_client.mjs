// upload_client.mjs: the npm Hugging Face upload client, pointed at ggufd's
// upload gateway.
//
// The shell test gateway.sh calls this with node and reads its one line of
// JSON output.  Modules resolve from tests/node_modules (installed by
// `npm ci --prefix tests`): Node looks upward from this file's folder.
// The token comes from the environment (GGUFD_TOKEN), never from argv, so it
// does not show up in process listings.
//
//   node upload_client.mjs --upload BASE REPO FILE PATH-IN-REPO [TITLE]
//       uploadFile from @huggingface/hub with hubUrl=BASE, useXet:false and
//       accessToken=$GGUFD_TOKEN; prints {commitOid, commitUrl, hookOutput,
//       requests}: the answer and every request the client made (method,
//       URL with the query cut, status, whether it sent Authorization, and
//       for LFS batch calls which oids got actions).
//   node upload_client.mjs --whoami BASE
//       whoAmI with accessToken=$GGUFD_TOKEN; prints {name, type, role}.
//
// Exit status: 0 on success, 1 on any client error (message on stderr),
// 2 on bad usage.

import { readFile } from "node:fs/promises";

function die(msg, code = 1) {
	process.stderr.write(`upload_client: ${msg}\n`);
	process.exit(code);
}

let hub;
try {
	hub = await import("@huggingface/hub");
} catch (e) {
	die(`cannot load @huggingface/hub (npm ci --prefix tests): ${e.message}`);
}

const token = process.env.GGUFD_TOKEN;
if (!token) die("GGUFD_TOKEN is not set", 2);

// A fetch that records what the library asked for, so the test can see
// e.g. that the byte PUTs carried no Authorization.
const requests = [];
async function recordingFetch(input, init = {}) {
	const isRequest = typeof Request !== "undefined" && input instanceof Request;
	const url = isRequest ? input.url : String(input);
	const method = String(init.method ?? (isRequest ? input.method : "GET")).toUpperCase();
	const h = new Headers(init.headers ?? (isRequest ? input.headers : undefined));
	const entry = { method, url: url.split("?")[0], auth: h.has("authorization") };
	requests.push(entry);
	const res = await fetch(input, init);
	entry.status = res.status;
	if (url.includes("/info/lfs/objects/batch") && res.ok) {
		// Which oids the gateway asked to be sent (an object without
		// actions is already there).
		try {
			const body = await res.clone().json();
			entry.batch = (body.objects ?? []).map((o) => ({ oid: o.oid, actions: Boolean(o.actions) }));
		} catch {
			entry.batch = null;
		}
	}
	return res;
}

const [mode, ...args] = process.argv.slice(2);
try {
	if (mode === "--upload" && (args.length === 4 || args.length === 5)) {
		const [base, repo, file, pathInRepo, title] = args;
		const content = new Blob([await readFile(file)]);
		const out = await hub.uploadFile({
			repo: { type: "model", name: repo },
			file: { path: pathInRepo, content },
			hubUrl: base,
			accessToken: token,
			useXet: false,
			commitTitle: title ?? `upload ${pathInRepo}`,
			fetch: recordingFetch,
		});
		process.stdout.write(
			JSON.stringify({
				commitOid: out?.commit?.oid ?? null,
				commitUrl: out?.commit?.url ?? null,
				hookOutput: out?.hookOutput ?? null,
				requests,
			}) + "\n",
		);
	} else if (mode === "--whoami" && args.length === 1) {
		const info = await hub.whoAmI({ hubUrl: args[0], accessToken: token, fetch: recordingFetch });
		process.stdout.write(
			JSON.stringify({
				name: info.name,
				type: info.type,
				role: info.auth?.accessToken?.role ?? null,
			}) + "\n",
		);
	} else {
		die("usage: upload_client.mjs --upload BASE REPO FILE PATH [TITLE] | --whoami BASE", 2);
	}
} catch (e) {
	die(`${e.name}: ${e.message} ${e.statusCode ? `(status ${e.statusCode})` : ""} requests=${JSON.stringify(requests)}`);
}
