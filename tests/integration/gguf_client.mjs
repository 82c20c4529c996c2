// gguf_client.mjs: the npm Hugging Face clients, pointed at a running ggufd.
//
// The shell tests (clients.sh) call this with node and compare its one line
// of JSON output with what they know about the store.  Modules resolve from
// tests/node_modules (installed by `npm ci --prefix tests`): Node looks
// upward from this file's folder, so no NODE_PATH is needed (ESM ignores it).
//
//   node gguf_client.mjs URL
//       gguf(URL) from @huggingface/gguf, which reads the header through
//       2 MB Range requests; prints {architecture, tensorCount, version}.
//   node gguf_client.mjs --hub BASE REPO PATH [REV]
//       @huggingface/hub fileDownloadInfo (a GET with Range: bytes=0-0) and
//       downloadFile (xet off) with hubUrl=BASE; prints {size, etag, commit,
//       downloadedSize, sha256}.  commit is the X-Repo-Commit of the probe.
//   node gguf_client.mjs --list BASE REPO [REV]
//       @huggingface/hub listFiles (recursive) with hubUrl=BASE, following
//       the Link pagination itself; prints {paths, types, pages, urls}:
//       every entry path, their types, and the URLs it fetched.
//   node gguf_client.mjs --info BASE REPO [REV]
//       @huggingface/hub modelInfo with hubUrl=BASE; prints {name, id,
//       sha} (sha through additionalFields).
//
// Exit status: 0 on success, 1 on any client error (message on stderr),
// 2 on bad usage.

import { createHash } from "node:crypto";

function die(msg, code = 1) {
	process.stderr.write(`gguf_client: ${msg}\n`);
	process.exit(code);
}

async function load(name) {
	try {
		return await import(name);
	} catch (e) {
		die(`cannot load ${name} (run "npm ci --prefix tests"): ${e.message}`);
	}
}

async function ggufMode(url) {
	const { gguf } = await load("@huggingface/gguf");
	const { metadata, tensorInfos } = await gguf(url);
	return {
		architecture: metadata["general.architecture"] ?? null,
		tensorCount: Number(metadata.tensor_count),
		tensorInfos: tensorInfos.length,
		version: metadata.version,
	};
}

async function hubMode(base, repo, path, revision) {
	const { fileDownloadInfo, downloadFile } = await load("@huggingface/hub");
	// fileDownloadInfo does not return the commit, so a wrapping fetch
	// records the X-Repo-Commit header of the probe it makes.
	let commit = null;
	const recordingFetch = async (input, init) => {
		const resp = await fetch(input, init);
		commit ??= resp.headers.get("X-Repo-Commit");
		return resp;
	};
	const info = await fileDownloadInfo({
		repo: { type: "model", name: repo },
		path,
		revision,
		hubUrl: base,
		fetch: recordingFetch,
	});
	if (info === null) die(`fileDownloadInfo: ${repo}/${path} not found`);
	const blob = await downloadFile({
		repo: { type: "model", name: repo },
		path,
		revision,
		hubUrl: base,
		xet: false,
		downloadInfo: info,
	});
	if (blob === null) die(`downloadFile: ${repo}/${path} not found`);
	const bytes = Buffer.from(await blob.arrayBuffer());
	return {
		size: info.size,
		etag: info.etag,
		commit,
		downloadedSize: bytes.length,
		sha256: createHash("sha256").update(bytes).digest("hex"),
	};
}

// A fetch that records every URL asked for (pagination is followed by the
// library from the Link header, so these show where Link pointed).
function recordingFetch(urls) {
	return async (input, init) => {
		urls.push(typeof input === "string" ? input : input.url ?? String(input));
		return fetch(input, init);
	};
}

async function listMode(base, repo, revision) {
	const { listFiles } = await load("@huggingface/hub");
	const urls = [];
	const paths = [];
	const types = [];
	for await (const e of listFiles({
		repo: { type: "model", name: repo },
		recursive: true,
		revision,
		hubUrl: base,
		fetch: recordingFetch(urls),
	})) {
		paths.push(e.path);
		types.push(e.type);
	}
	return { paths, types, pages: urls.length, urls };
}

async function infoMode(base, repo, revision) {
	const { modelInfo } = await load("@huggingface/hub");
	const urls = [];
	const info = await modelInfo({
		name: repo,
		revision,
		hubUrl: base,
		additionalFields: ["sha"],
		fetch: recordingFetch(urls),
	});
	return { name: info.name, id: info.id, sha: info.sha ?? null, urls };
}

const args = process.argv.slice(2);
let out;
try {
	if (args[0] === "--hub" && (args.length === 4 || args.length === 5)) {
		out = await hubMode(args[1], args[2], args[3], args[4] ?? "main");
	} else if (args[0] === "--list" && (args.length === 3 || args.length === 4)) {
		out = await listMode(args[1], args[2], args[3] ?? "main");
	} else if (args[0] === "--info" && (args.length === 3 || args.length === 4)) {
		out = await infoMode(args[1], args[2], args[3]);
	} else if (args.length === 1 && !args[0].startsWith("--")) {
		out = await ggufMode(args[0]);
	} else {
		die("usage: node gguf_client.mjs URL | --hub BASE REPO PATH [REV] | --list BASE REPO [REV] | --info BASE REPO [REV]", 2);
	}
} catch (e) {
	die(e?.stack ?? String(e));
}
process.stdout.write(JSON.stringify(out) + "\n");
