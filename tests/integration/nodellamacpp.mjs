// nodellamacpp.mjs MODEL N: loads MODEL with node-llama-cpp's prebuilt
// native part (CPU only, never built from source, nothing downloaded) and
// generates N tokens after a short prompt.  Prints one JSON line:
// {"binary": "prebuilt", "gpu": false, "prompt_tokens": n, "tokens": [...], "text": "..."}.
// Exit 0 only if N tokens came out; otherwise 1 with {"error": ...}.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [model, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 8);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

try {
	// build "never" and skipDownload: a missing or unusable prebuilt binary is
	// an error here, never a compile of llama.cpp.
	const llama = await getLlama({
		gpu: false,
		build: "never",
		usePrebuiltBinaries: true,
		skipDownload: true,
		progressLogs: false,
		logLevel: LlamaLogLevel.error,
	});
	const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
	const ctx = await m.createContext({ contextSize: 128, batchSize: 32 });
	const seq = ctx.getSequence();
	const prompt = m.tokenize("hello world");
	const tokens = [];
	for await (const t of seq.evaluate(prompt, { temperature: 0 })) {
		tokens.push(t);
		if (tokens.length >= n) break;
	}
	out({
		binary: llama.buildType,
		gpu: llama.gpu,
		prompt_tokens: prompt.length,
		tokens,
		text: m.detokenize(tokens),
	});
	await ctx.dispose();
	await m.dispose();
	await llama.dispose();
	process.exit(tokens.length === n ? 0 : 1);
} catch (e) {
	out({ error: String(e && e.stack ? e.stack : e) });
	process.exit(1);
}
