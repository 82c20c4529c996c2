// ggufd dashboard: plain JS, no framework, served by ggufd itself (strict
// CSP: no inline script).  Every view reads the same JSON routes scripts
// use; data is put in the page with textContent only, never as HTML.
'use strict';

const PAGE = 100;
const state = { token: '', page: 0, repo: null };

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
	const e = document.createElement(tag);
	if (text !== undefined && text !== null) e.textContent = String(text);
	if (cls) e.className = cls;
	return e;
}

// A row saying the table is empty, across all its columns.
function emptyRow(table, text) {
	const td = el('td', text, 'hint');
	td.colSpan = $(table).tHead.rows[0].cells.length;
	return row([td]);
}

function row(cells) {
	const tr = document.createElement('tr');
	for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
	return tr;
}

function human(n) {
	const u = ['B', 'KB', 'MB', 'GB', 'TB'];
	let i = 0;
	while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
	return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

// Bytes as a person reads them, in binary units (KiB, MiB, GiB).
function size(n) {
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
	let i = 0;
	while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
	return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

// A cell with a size in binary units, the exact bytes on hover.
function sizeCell(n) {
	const td = el('td', size(n), 'num');
	td.title = n + ' bytes';
	return td;
}

// A unix time as "4 min ago" (the date and time on hover); 0 is never.
function ago(t) {
	if (!t) return el('span', 'never');
	const s = Math.max(0, Math.round(Date.now() / 1000 - t));
	const text = s < 10 ? 'just now' : s < 60 ? s + ' s ago' : s < 3600 ? Math.floor(s / 60) + ' min ago'
		: s < 86400 ? Math.floor(s / 3600) + ' h ago' : Math.floor(s / 86400) + ' d ago';
	const e = el('span', text);
	e.title = new Date(t * 1000).toISOString();
	return e;
}

function showError(msg) {
	const e = $('error');
	e.textContent = msg || '';
	e.hidden = !msg;
}

async function getJSON(url) {
	const headers = {};
	if (state.token) headers.Authorization = 'Bearer ' + state.token;
	const r = await fetch(url, { headers });
	if (!r.ok) {
		const why = r.headers.get('X-Error-Message') || r.statusText;
		throw new Error(url + ': ' + r.status + ' ' + why);
	}
	return r.json();
}

function copyButton(text) {
	const b = el('button', 'copy', 'copy');
	b.type = 'button';
	b.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(text));
	return b;
}

// A sha256 shortened, with a copy button for the whole of it.
function shaCell(sha) {
	const td = el('td', sha.slice(0, 12) + '...', 'mono');
	td.title = sha;
	td.appendChild(copyButton(sha));
	return td;
}

// The files naming a blob (repo@revision/path), one a line.
function filesCell(files) {
	const td = el('td', null, 'mono');
	for (const f of files || []) {
		const repo = (f.type && f.type !== 'model' ? f.type + 's/' : '') + f.repo;
		td.appendChild(el('div', repo + '@' + f.revision + '/' + f.path));
	}
	if (!td.firstChild) td.appendChild(el('div', '(no file at a ref names it)', 'hint'));
	return td;
}

async function showStore(repo) {
	const tbody = $('repos').tBodies[0];
	tbody.replaceChildren();
	const repos = await getJSON('/api/ggufd/repos');
	for (const r of repos) {
		const a = el('a', r.id);
		a.href = '#store/' + (r.type === 'model' ? '' : r.type + 's/') + r.id;
		const td = el('td');
		td.appendChild(a);
		tbody.appendChild(row([td, r.type, Object.keys(r.refs).join(', ')]));
	}
	$('repo').hidden = !repo;
	if (repo) await showRepo(repo);
}

// The lines that point a client at this repo, each with a copy button.
// Ollama takes the registry in the model name (HOST:PORT/REPO:TAG), the
// tag being a GGUF file's quant; `latest` when none is known.
function renderHowto(repo, quant) {
	const base = location.origin;
	const lines = [
		'HF_ENDPOINT=' + base + ' huggingface-cli download ' + repo,
		'MODEL_ENDPOINT=' + base + ' llama-cli -hf ' + repo,
		'curl -LO ' + base + '/' + repo + '/resolve/main/<file>',
	];
	if (!/^(datasets|spaces)\//.test(repo))
		lines.push('ollama pull ' + location.host + '/' + repo + ':' + (quant || 'latest') + ' --insecure');
	$('howto').replaceChildren(...lines.map((l) => {
		const d = el('div', null, 'line');
		d.appendChild(el('code', l));
		d.appendChild(copyButton(l));
		return d;
	}));
}

async function showRepo(repo) {
	state.repo = repo;
	state.page = 0;
	$('repo-title').textContent = repo;
	$('file-filter').value = '';
	renderHowto(repo, null);
	const a = await renderFiles();
	const g = a.files.find((f) => f.gguf && f.gguf.quant);
	renderHowto(repo, g ? g.gguf.quant : null);
}

function gguf(g) {
	if (!g) return '';
	const p = g.params ? ' ' + human(g.params).replace(/ ?B$/, '').replace(' ', '') + ' params' : '';
	return [g.arch, g.quant].filter(Boolean).join(' ') + p +
		(g.context ? ', ctx ' + g.context : '') + ', ' + g.tensors + ' tensors';
}

// The GGUF cell: the summary, and the shard of a split set (from its name).
function ggufCell(f) {
	const td = el('td', gguf(f.gguf));
	if (f.shard) {
		const s = el('span', 'shard ' + f.shard.index + ' of ' + f.shard.count, 'shard');
		s.title = 'one file of a split GGUF set of ' + f.shard.count + ' (llama.cpp loads the set from the first)';
		if (td.textContent) td.appendChild(document.createTextNode(' '));
		td.appendChild(s);
	}
	return td;
}

// The files of the repo at main, searched and paged by the server.
async function renderFiles() {
	const q = $('file-filter').value;
	const url = '/api/ggufd/files?repo=' + encodeURIComponent(state.repo) +
		'&offset=' + state.page * PAGE + '&limit=' + PAGE + (q ? '&q=' + encodeURIComponent(q) : '');
	const a = await getJSON(url);
	const pages = Math.max(1, Math.ceil(a.total / PAGE));
	const tbody = $('files').tBodies[0];
	tbody.replaceChildren();
	for (const f of a.files) {
		const link = location.origin + '/' + state.repo + '/resolve/main/' +
			f.path.split('/').map(encodeURIComponent).join('/');
		const dl = el('td');
		const an = el('a', 'resolve');
		an.href = link;
		dl.appendChild(an);
		dl.appendChild(copyButton(link));
		const last = el('td');
		last.appendChild(ago(f.lastAccess));
		const hits = el('td', f.hits === undefined ? '' : f.hits, 'num');
		hits.title = 'served from the store ' + (f.hits || 0) + ' times (updated every 30 s; this server\'s own hits at once)';
		const size = el('td', human(f.size), 'num');
		size.title = f.size + ' bytes';
		tbody.appendChild(row([el('td', f.path, 'mono'), size, el('td', f.lfs ? 'yes' : 'no'),
			ggufCell(f), hits, last, shaCell(f.sha256),
			el('td', (f.present ? 'here' : 'not fetched') + (f.pinned ? ', pinned' : '')), dl]));
	}
	$('page').textContent = (state.page + 1) + ' / ' + pages + ' (' + a.total + ' files)';
	$('prev').disabled = state.page === 0;
	$('next').disabled = state.page + 1 >= pages;
	return a;
}

// The activity view polls while it is shown; rates come from two polls.
let activityTimer = null;
let lastActivity = null;
let lastActivityAt = 0; // performance.now() of lastActivity, for rates

function pct(part, whole) { return whole > 0 ? Math.round(100 * part / whole) + '%' : '-'; }

function ratio(hits, misses) {
	return 'hit ratio ' + pct(hits, hits + misses) + ' (' + plural(hits, 'hit', 'hits') + ', ' +
		plural(misses, 'miss', 'misses') + ')';
}

function saving(t) {
	const served = t.servedStore + t.servedFetch;
	const saved = served > 0 ? Math.max(0, Math.round(100 * (1 - t.upstreamBytes / served))) : 0;
	return 'Since ggufd started: ' + human(served) + ' served (' + human(t.servedStore) + ' from the store, ' +
		human(t.servedFetch) + ' while fetching), ' + human(t.upstreamBytes) +
		' from upstream: ' + saved + '% saved; ' + t.requests + ' requests, ' + ratio(t.hits || 0, t.misses || 0) +
		'; ' + t.fetchesVerified + ' fetches verified, ' + t.fetchesFailed + ' failed';
}

// A unix time as "12:03:10 (4 min ago)", the full date on hover.
function when(t) {
	const span = el('span', new Date(t * 1000).toLocaleTimeString() + ' (');
	span.appendChild(ago(t));
	span.appendChild(document.createTextNode(')'));
	span.title = new Date(t * 1000).toISOString();
	return span;
}

// Upstream health: reachable or not (a word and an icon, not colour
// alone) and since when, the last error, the 429 answers.
function renderHealth(u) {
	const tiers = u.tiers || [];
	// Several tiers: all of them in order, and how many are down (the
	// reachable line is about the last request, whichever tier answered).
	$('upstream').textContent = tiers.length > 1 ? tiers.map((t) => t.url).join(' \u2192 ')
		: u.base || '(none: a local registry)';
	const st = $('upstream-state');
	if (!u.base) {
		st.replaceChildren(el('span', 'no upstream: every answer comes from the store'));
		st.className = '';
	} else if (u.reachable === null || u.reachable === undefined) {
		st.replaceChildren(el('span', 'not asked yet (nothing has needed it since ggufd started)'));
		st.className = '';
	} else {
		st.replaceChildren(el('span', u.reachable ? '\u2713 reachable since ' : '\u2717 unreachable since '), when(u.since));
		if (!u.reachable && u.lastOk) {
			st.appendChild(document.createTextNode('; last answer '));
			st.appendChild(ago(u.lastOk));
		}
		st.className = u.reachable ? 'ok' : 'bad';
	}
	const down = tiers.filter((t) => !t.up).length;
	if (tiers.length > 1 && down > 0)
		st.appendChild(el('span', ' (' + down + ' of ' + tiers.length + ' tiers down: see Upstream tiers below)', 'warn'));
	const err = $('upstream-error');
	if (u.lastError) {
		err.replaceChildren(el('span', 'Last error: '), el('code', u.lastError), el('span', ' at '), when(u.lastErrorAt));
	} else {
		err.replaceChildren(el('span', u.base ? 'No upstream error since ggufd started.' : ''));
	}
	$('upstream-429').textContent = u.base ? '429 Too Many Requests answers: ' + u.tooMany +
		(u.retryAfter ? ' (last Retry-After ' + u.retryAfter + ' s)' : '') : '';
	$('upstream-429').className = u.tooMany ? 'warn' : '';
}

// A tier's or peer's state: a word and an icon (never colour alone), the
// failed probes on hover.
function nodeState(n) {
	if (n.self) {
		const td = el('td', '\u25cf this node', 'self');
		td.title = 'this ggufd (--self): it fetches the blobs it owns from the tiers itself';
		return td;
	}
	const td = el('td', n.up ? '\u2713 up' : '\u2717 down', n.up ? 'ok' : 'bad');
	td.title = n.up ? 'answering' : 'skipped: ' + plural(n.failures, 'failed probe', 'failed probes') + ' in a row';
	return td;
}

// When a down node is asked again: the back-off left, or the next request.
function nextProbe(n) {
	if (n.self || n.up) return el('td', '-', 'hint');
	const td = el('td', n.retryIn > 0 ? 'in ' + n.retryIn + ' s' : 'with the next request that needs it');
	td.title = 'back-off: 1 s, doubling with each failed probe, at most 30 s';
	return td;
}

function nodeRow(n, i, role) {
	const url = el('td', null, 'mono');
	url.appendChild(el('span', n.url, 'url'));
	if (role) url.appendChild(el('span', role, 'badge'));
	const since = el('td');
	since.appendChild(when(n.since));
	const tr = row([el('td', i + 1, 'num'), url, nodeState(n), since, el('td', n.failovers, 'num'),
		nextProbe(n), el('td', n.lastError || '', 'mono')]);
	tr.className = n.self ? 'self' : n.up ? 'up' : 'down';
	return tr;
}

// The tiers (in order) and the peers (this node marked), when there are
// several tiers or any peer; a single upstream is the line above.
function renderNodes(u) {
	const tiers = u.tiers || [], peers = u.peers || [];
	const box = $('nodes');
	box.hidden = tiers.length < 2 && peers.length === 0;
	if (box.hidden) return;
	$('tiers').tBodies[0].replaceChildren(...tiers.map((n, i) =>
		nodeRow(n, i, n.origin ? 'origin (gets the token)' : null)));
	$('peers-box').hidden = peers.length === 0;
	$('peers-none').textContent = peers.length === 0 ? 'No peers (--peer): this node fetches every blob itself.' : '';
	$('peers').tBodies[0].replaceChildren(...peers.map((n, i) => nodeRow(n, i, n.self ? 'self' : null)));
}

// Requests per second and the hit ratio between two polls.
function renderRates(a, now) {
	const e = $('rates');
	if (!lastActivity) {
		e.textContent = 'Now: measuring (two polls, 2 s apart)...';
		return;
	}
	const dt = Math.max(0.5, (now - lastActivityAt) / 1000);
	const t = a.totals, p = lastActivity.totals;
	const hits = (t.hits || 0) - (p.hits || 0), misses = (t.misses || 0) - (p.misses || 0);
	const rps = (t.requests - p.requests) / dt;
	e.textContent = 'Now: ' + rps.toFixed(1) + ' req/s, ' +
		(hits + misses > 0 ? ratio(hits, misses) + ' over the last ' + dt.toFixed(0) + ' s'
			: 'hit ratio - (no file served in the last ' + dt.toFixed(0) + ' s)') +
		', ' + human(Math.max(0, (t.servedStore + t.servedFetch - p.servedStore - p.servedFetch) / dt)) + '/s served, ' +
		human(Math.max(0, (t.upstreamBytes - p.upstreamBytes) / dt)) + '/s from upstream';
	e.title = (t.requests - p.requests) + ' requests (this page\'s polls included) in ' + dt.toFixed(1) + ' s';
}

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs, cls) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
	if (cls) e.setAttribute('class', cls);
	return e;
}

// The last hour, one slot a minute: bars of bytes served (from the store,
// then while fetching, stacked) and a line of bytes pulled from upstream.
// Geometry only in attributes (no style attribute: the CSP allows none);
// colours come from app.css.  Each minute's exact figures are on hover.
function renderChart(a) {
	const W = 640, H = 150, top = 14, bottom = 18, left = 4, right = 4;
	const plotH = H - top - bottom, slot = (W - left - right) / 60;
	const end = Math.floor(a.time / 60) * 60; // the current minute's start
	const hist = (a.history || []).filter((m) => m.t > end - 3600 && m.t <= end);
	const max = Math.max(1, ...hist.map((m) => Math.max(m.servedStore + m.servedFetch, m.upstreamBytes)));
	const y = (v) => top + plotH - plotH * v / max;
	const x = (t) => left + ((t - (end - 59 * 60)) / 60) * slot;
	const kids = [
		svgEl('line', { x1: left, y1: top + plotH, x2: W - right, y2: top + plotH }, 'axis'),
		svgEl('line', { x1: left, y1: top, x2: W - right, y2: top }, 'grid'),
	];
	const label = (text, attrs, cls) => { const t = svgEl('text', attrs, cls); t.textContent = text; return t; };
	kids.push(label(human(max) + '/min', { x: left + 2, y: top - 3 }, 'label'));
	kids.push(label('60 min ago', { x: left, y: H - 4 }, 'label'));
	kids.push(label('now', { x: W - right, y: H - 4, 'text-anchor': 'end' }, 'label'));
	const pts = [];
	let totServed = 0, totUp = 0, hits = 0, misses = 0, reqs = 0;
	for (const m of hist) {
		const x0 = x(m.t) + 0.5, w = Math.max(1, slot - 1);
		const g = svgEl('g', null, 'minute');
		const tip = svgEl('title');
		tip.textContent = new Date(m.t * 1000).toLocaleTimeString() + ': ' + human(m.servedStore) + ' from the store (' +
			m.servedStore + ' bytes), ' + human(m.servedFetch) + ' while fetching (' + m.servedFetch + ' bytes), ' +
			human(m.upstreamBytes) + ' from upstream (' + m.upstreamBytes + ' bytes); ' + m.requests + ' requests, ' +
			ratio(m.hits || 0, m.misses || 0);
		g.appendChild(tip);
		// A transparent full-height slot, so a quiet minute has a hover too.
		g.appendChild(svgEl('rect', { x: x0, y: top, width: w, height: plotH }, 'hover'));
		if (m.servedStore > 0)
			g.appendChild(svgEl('rect', { x: x0, y: y(m.servedStore), width: w, height: top + plotH - y(m.servedStore) }, 'bar store'));
		if (m.servedFetch > 0)
			g.appendChild(svgEl('rect', { x: x0, y: y(m.servedStore + m.servedFetch), width: w,
				height: y(m.servedStore) - y(m.servedStore + m.servedFetch) }, 'bar fetch'));
		kids.push(g);
		pts.push([x0 + w / 2, y(m.upstreamBytes)]);
		totServed += m.servedStore + m.servedFetch;
		totUp += m.upstreamBytes;
		hits += m.hits || 0;
		misses += m.misses || 0;
		reqs += m.requests;
	}
	if (pts.length > 0) {
		kids.push(svgEl('polyline', { points: pts.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ') }, 'upstream'));
		for (const [px, py] of pts) kids.push(svgEl('circle', { cx: px.toFixed(1), cy: py.toFixed(1), r: 2 }, 'point upstream'));
	}
	const svg = $('traffic-chart');
	svg.replaceChildren(...kids);
	const summary = 'Last hour: ' + human(totServed) + ' served, ' + human(totUp) + ' pulled from upstream (' +
		(totServed > 0 ? Math.max(0, Math.round(100 * (1 - totUp / totServed))) + '% saved' : 'nothing served') + '); ' +
		reqs + ' requests, ' + ratio(hits, misses);
	$('hour').textContent = summary;
	svg.setAttribute('aria-label', summary);
}

async function pollActivity() {
	const a = await getJSON('/api/ggufd/activity');
	const now = performance.now();
	renderHealth(a.upstream || {});
	renderNodes(a.upstream || {});
	renderRates(a, now);
	$('totals').textContent = saving(a.totals);
	renderChart(a);
	const tbody = $('fetches').tBodies[0];
	tbody.replaceChildren();
	const prev = new Map((lastActivity ? lastActivity.fetches : []).map((f) => [f.key, f]));
	const dt = lastActivity ? Math.max(0.5, (now - lastActivityAt) / 1000) : 0;
	for (const f of a.fetches) {
		const p = document.createElement('progress');
		p.max = f.size || 1;
		p.value = f.landed;
		const cell = el('td');
		cell.appendChild(p);
		cell.appendChild(el('span', ' ' + human(f.landed) + ' / ' + human(f.size)));
		const old = prev.get(f.key);
		const rate = old && dt ? (f.landed - old.landed) / dt : 0;
		const eta = rate > 0 ? Math.round((f.size - f.landed) / rate) + ' s' : '';
		tbody.appendChild(row([f.repo, el('td', f.path, 'mono'), cell,
			el('td', rate > 0 ? human(rate) + '/s' : '', 'num'), el('td', eta, 'num'),
			el('td', f.readers, 'num')]));
	}
	if (a.fetches.length === 0)
		tbody.appendChild(row([el('td', 'nothing in flight')]));
	lastActivity = a;
	lastActivityAt = now;
}

function stopActivity() {
	if (activityTimer !== null) clearTimeout(activityTimer);
	activityTimer = null;
}

async function showActivity() {
	stopActivity();
	lastActivity = null; // rates between two polls of this visit only
	const tick = async () => {
		try {
			await pollActivity();
			showError('');
		} catch (e) {
			showError(e.message);
		}
		if (!$('view-activity').hidden) activityTimer = setTimeout(tick, 2000);
	};
	await tick();
}

// --- the disk view ---------------------------------------------------------

// The bar: the store's bytes against the quota (or, with no quota, the
// filesystem), one segment per kind; each kind is named in the legend too
// (colour is never the only cue).
function diskParts(d) {
	const held = Math.max(0, d.used - d.pinned - d.evictable);
	const parts = [
		['pinned', d.pinned, 'pinned (never evicted)'],
		['held', held, 'in use (being read or published)'],
		['evictable', d.evictable, 'evictable'],
		['writing', d.reserved, 'being written'],
	];
	if (!d.quota) {
		const other = Math.max(0, d.fsTotal - d.fsAvail - d.used - d.reserved);
		parts.push(['other', other, 'other files on the filesystem']);
	}
	return parts;
}

function renderDiskBar(d) {
	const whole = d.quota || d.fsTotal || 1;
	const bar = $('disk-bar');
	const legend = $('disk-legend');
	const segs = [];
	const items = [];
	for (const [cls, n, label] of diskParts(d)) {
		const seg = el('span', null, 'seg ' + cls);
		seg.style.width = Math.min(100, 100 * n / whole).toFixed(2) + '%';
		seg.title = label + ': ' + size(n) + ' (' + n + ' bytes)';
		segs.push(seg);
		const li = el('li', null, cls);
		li.appendChild(el('span', null, 'swatch ' + cls));
		li.appendChild(el('span', label + ' ' + size(n), 'what'));
		li.title = n + ' bytes';
		items.push(li);
	}
	const free = d.quota ? Math.max(0, d.quota - d.used - d.reserved) : d.fsAvail;
	const li = el('li', null, 'free');
	li.appendChild(el('span', null, 'swatch free'));
	li.appendChild(el('span', (d.quota ? 'free under the quota ' : 'free on the filesystem ') + size(free), 'what'));
	li.title = free + ' bytes';
	items.push(li);
	bar.replaceChildren(...segs);
	bar.setAttribute('aria-label', $('disk-summary').textContent);
	legend.replaceChildren(...items);
}

function diskSummary(d) {
	const e = $('disk-summary');
	const inUse = d.used + d.reserved;
	if (d.quota) {
		const pct = Math.round(100 * inUse / d.quota);
		e.textContent = size(d.used) + ' used of a ' + size(d.quota) + ' quota (' + pct + '%' +
			(d.reserved ? ', with ' + size(d.reserved) + ' being written' : '') + '), in ' + d.blobs +
			(d.blobs === 1 ? ' blob' : ' blobs');
		e.title = d.used + ' bytes used, ' + d.reserved + ' being written, quota ' + d.quota + ' bytes';
		e.className = pct >= 90 ? 'full' : '';
	} else {
		e.textContent = 'no quota: ' + size(d.used) + ' used in ' + d.blobs + (d.blobs === 1 ? ' blob' : ' blobs') +
			(d.reserved ? ', ' + size(d.reserved) + ' being written' : '') +
			'; the store may fill the filesystem (' + size(d.fsAvail) + ' free of ' + size(d.fsTotal) + ')';
		e.title = d.used + ' bytes used, ' + d.reserved + ' being written, no quota';
		e.className = '';
	}
}

// The blob store (--blob-store): where, what the uploader did, the bytes
// each way, the last error; or that there is none.
function renderBlobStore(b) {
	const sum = $('blob-store-summary');
	const table = $('blob-store');
	if (!b) {
		sum.textContent = 'No blob store configured (--blob-store s3://BUCKET[/PREFIX] with --s3-endpoint): ' +
			'blobs are kept on this node\'s disk only.';
		sum.className = 'hint';
		table.hidden = true;
		return;
	}
	sum.replaceChildren(el('span', 'Blobs are stored in '), el('code', b.url), el('span', ' at '), el('code', b.endpoint),
		el('span', ' once verified here; only blobs stored there are evictable here.'));
	sum.className = '';
	const st = b.pending > 0 ? '\u21bb ' + plural(b.pending, 'blob', 'blobs') + ' to upload'
		: '\u2713 every blob here is in the bucket';
	const err = el('td');
	if (b.lastError) err.replaceChildren(el('span', '\u2717 ', 'bad'), el('code', b.lastError), el('span', ' at '), when(b.lastErrorAt));
	else err.textContent = 'none since ggufd started';
	const bytes = (n) => { const td = el('td', size(n)); td.title = n + ' bytes'; return td; };
	const kv = [
		['uploads', el('td', st, b.pending > 0 ? 'warn' : 'ok')],
		['stored by this node', el('td', plural(b.uploaded, 'blob', 'blobs') + ' (' + size(b.uploadedBytes) + ')' +
			(b.alreadyThere ? ', ' + b.alreadyThere + ' found there already' : ''))],
		['failed uploads', el('td', String(b.failed), b.failed ? 'bad' : '')],
		['received', bytes(b.bytesIn)],
		['sent', bytes(b.bytesOut)],
		['requests', el('td', b.requests + ' (' + plural(b.errors, 'error', 'errors') + ')')],
		['last error', err],
	];
	table.tBodies[0].replaceChildren(...kv.map(([k, v]) => {
		const tr = row([el('th', k), v]);
		tr.dataset.key = k;
		return tr;
	}));
	table.hidden = false;
}

function renderDisk(d) {
	diskSummary(d);
	renderDiskBar(d);
	renderBlobStore(d.blobStore);
	const fs = $('disk-fs');
	fs.textContent = 'Filesystem: ' + size(d.fsTotal) + ' total, ' + size(d.fsAvail) + ' free' +
		(d.fsTotal ? ' (' + Math.round(100 * d.fsAvail / d.fsTotal) + '% free)' : '');
	fs.title = d.fsTotal + ' bytes total, ' + d.fsAvail + ' bytes free';
	const next = $('disk-next').tBodies[0];
	next.replaceChildren();
	d.next.forEach((b, i) => {
		const when = el('td');
		when.appendChild(ago(b.lastAccess));
		next.appendChild(row([el('td', i + 1, 'num'), sizeCell(b.size), when, el('td', b.hits, 'num'),
			shaCell(b.sha256), filesCell(b.files)]));
	});
	if (d.next.length === 0)
		next.appendChild(emptyRow('disk-next', 'nothing can be evicted now'));
	$('disk-evictions').textContent = d.evictions + (d.evictions === 1 ? ' eviction' : ' evictions') +
		' since ggufd started (' + size(d.evictedBytes) + ')' + (d.evictions ? '; the latest, newest first:' : '.');
	const recent = $('disk-recent').tBodies[0];
	recent.replaceChildren();
	for (const b of d.recent) {
		const when = el('td');
		when.appendChild(ago(b.time));
		const last = el('td');
		last.appendChild(ago(b.lastAccess));
		recent.appendChild(row([when, sizeCell(b.size), last, shaCell(b.sha256), filesCell(b.files)]));
	}
	if (d.recent.length === 0)
		recent.appendChild(emptyRow('disk-recent', 'no evictions yet'));
}

// The disk view polls while it is shown, as the activity view does.
let diskTimer = null;

function stopDisk() {
	if (diskTimer !== null) clearTimeout(diskTimer);
	diskTimer = null;
}

async function showDisk() {
	stopDisk();
	const tick = async () => {
		try {
			renderDisk(await getJSON('/api/ggufd/disk'));
			showError('');
		} catch (e) {
			showError(e.message);
		}
		if (!$('view-disk').hidden) diskTimer = setTimeout(tick, 2000);
	};
	await tick();
}

async function showUploads() {
	const tbody = $('uploads').tBodies[0];
	tbody.replaceChildren();
	const jobs = await getJSON('/api/ggufd/uploads');
	for (const j of jobs.slice().reverse())
		tbody.appendChild(row([el('td', j.id, 'num'), j.state, j.by, j.repo,
			j.files.map((f) => f.path).join(', '), el('td', j.commit || '', 'mono'), j.error || '']));
}

// One PUT of the file to the plain upload route, with upload progress
// (XMLHttpRequest: fetch has none).  Resolves {status, body, message}.
function putFile(url, file, headers, onProgress) {
	return new Promise((resolve, reject) => {
		const x = new XMLHttpRequest();
		x.open('PUT', url);
		for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
		x.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
		x.addEventListener('load', () => {
			let body = null;
			try { body = JSON.parse(x.responseText); } catch (e) { body = null; }
			resolve({ status: x.status, body, message: x.getResponseHeader('X-Error-Message') || x.statusText });
		});
		x.addEventListener('error', () => reject(new Error(url + ': the connection failed')));
		x.send(file);
	});
}

async function upload(ev) {
	ev.preventDefault();
	const out = $('up-result');
	const file = $('up-file').files[0];
	const repo = $('up-repo').value.trim().replace(/^\/+|\/+$/g, '');
	const path = ($('up-path').value.trim() || (file && file.name) || '').replace(/^\/+/, '');
	out.textContent = '';
	out.className = '';
	if (!state.token) { showError('an upload needs a ggufd token of upload scope: enter it above'); return; }
	if (!file || !path) { showError('choose a file'); return; }
	showError('');
	const enc = (s) => s.split('/').map(encodeURIComponent).join('/');
	const headers = { Authorization: 'Bearer ' + state.token };
	const msg = $('up-msg').value.trim();
	if (msg) headers['X-Commit-Message'] = msg;
	if ($('up-overwrite').checked) headers['X-Ggufd-Overwrite'] = 'yes';
	const bar = $('up-progress');
	bar.hidden = false;
	bar.value = 0;
	$('up-send').disabled = true;
	try {
		const r = await putFile('/api/ggufd/upload/' + enc(repo) + '/' + enc(path), file, headers,
			(f) => { bar.value = f; });
		const b = r.body || {};
		if (r.status === 200) {
			out.textContent = 'published ' + path + ' to ' + repo + ' (' + human(file.size) + '): commit ' +
				(b.commitOid || '') + ', upload job ' + b.id;
			out.className = 'done';
		} else if (r.status === 202) {
			out.textContent = 'stored; upstream is unreachable, so upload job ' + b.id +
				' is pending and will be retried (see Uploads)';
			out.className = 'pending';
		} else {
			out.textContent = 'refused: ' + r.status + ' ' + r.message;
			out.className = 'refused';
		}
	} catch (e) {
		out.textContent = e.message;
		out.className = 'refused';
	} finally {
		$('up-send').disabled = false;
		bar.hidden = true;
	}
}

// A pull job's progress: a bar over its bytes and a line of counts.
function pullProgress(j) {
	const p = document.createElement('progress');
	p.max = j.bytes || 1;
	p.value = j.state === 'done' ? p.max : Math.min(j.bytesDone || 0, p.max);
	return p;
}

function pullText(j) {
	if (j.state === 'running' && !j.files && !j.done) return 'listing ' + j.repo + '@' + j.revision + '...';
	return j.done + ' / ' + j.files + ' files, ' + human(j.bytesDone || 0) + ' / ' + human(j.bytes || 0) +
		' (' + j.fetched + ' fetched, ' + j.skipped + ' already here, ' + j.failed + ' failed)' +
		(j.error ? ': ' + j.error : '');
}

// The pulls view polls while a job runs and the view is shown.
let pullsTimer = null;

function stopPulls() {
	if (pullsTimer !== null) clearTimeout(pullsTimer);
	pullsTimer = null;
}

async function showPulls() {
	stopPulls();
	const tbody = $('pulls').tBodies[0];
	const jobs = await getJSON('/api/ggufd/pull');
	tbody.replaceChildren();
	for (const j of jobs) {
		const bar = el('td');
		bar.appendChild(pullProgress(j));
		tbody.appendChild(row([el('td', j.id, 'num'), j.repo + '@' + j.revision,
			el('td', (j.include || []).join(' ') + (j.pin ? ' (pin)' : ''), 'mono'), j.state, bar, pullText(j)]));
	}
	if (jobs.length === 0)
		tbody.appendChild(row([el('td', 'no pull jobs yet')]));
	if (jobs.some((j) => j.state === 'running') && !$('view-pulls').hidden)
		pullsTimer = setTimeout(() => showPulls().catch((e) => showError(e.message)), 2000);
}

async function showAudit() {
	const tbody = $('audit').tBodies[0];
	tbody.replaceChildren();
	const acts = await getJSON('/api/ggufd/audit');
	for (const a of acts.slice(-200).reverse()) {
		const what = a.name || (a.files || []).map((f) => f.path + (f.deleted ? ' (deleted)' : '')).join(', ');
		tbody.appendChild(row([el('td', new Date(a.time * 1000).toISOString()), a.act, a.decision,
			a.rule || '', a.by || '', a.client || '', a.repo || '', what,
			el('td', (a.commit || '').slice(0, 12), 'mono')]));
	}
	if (acts.length === 0)
		tbody.appendChild(row([el('td', 'no acts yet')]));
}

// --- the admin view ------------------------------------------------------

// A JSON call that answers HTTP errors instead of throwing them:
// {status, ok, body, message} (message: the X-Error-Message).
async function call(method, url, body) {
	const headers = {};
	if (state.token) headers.Authorization = 'Bearer ' + state.token;
	const init = { method, headers };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	const r = await fetch(url, init);
	let b = null;
	try { b = await r.json(); } catch (e) { b = null; }
	return { status: r.status, ok: r.ok, body: b,
		message: r.headers.get('X-Error-Message') || (b && b.error) || r.statusText };
}

function words(s) { return s.split(/[\s,]+/).filter(Boolean); }

function setResult(id, text, cls) {
	$(id).textContent = text;
	$(id).className = cls || '';
}

// The new token lives in the page until "done" or leaving the view.
function clearNewToken() {
	$('new-token-value').textContent = '';
	$('new-token').hidden = true;
}

function revokeCell(t) {
	const td = el('td');
	if (t.revoked) return td;
	const ask = el('button', 'revoke', 'revoke');
	ask.type = 'button';
	ask.addEventListener('click', () => {
		const yes = el('button', 'yes, revoke ' + t.name, 'confirm-revoke');
		const no = el('button', 'cancel', 'cancel-revoke');
		yes.type = no.type = 'button';
		yes.addEventListener('click', () => revokeToken(t.name).catch((e) => showError(e.message)));
		no.addEventListener('click', () => td.replaceChildren(ask));
		td.replaceChildren(el('span', 'Revoke ' + t.name + '? It stops working at once. '), yes, no);
	});
	td.appendChild(ask);
	return td;
}

function renderTokens(tokens) {
	const tbody = $('tokens').tBodies[0];
	tbody.replaceChildren();
	for (const t of tokens)
		tbody.appendChild(row([el('td', t.name, 'mono'), t.scope, (t.repos || []).join(' '),
			el('td', (t.paths || []).join(' '), 'mono'), new Date(t.created * 1000).toISOString(),
			t.revoked ? 'revoked' : 'live', revokeCell(t)]));
	if (tokens.length === 0)
		tbody.appendChild(row([el('td', 'no tokens yet')]));
}

// The pinned blobs, with the files naming each.
async function showPins() {
	const r = await call('GET', '/api/ggufd/pins');
	const tbody = $('pins').tBodies[0];
	tbody.replaceChildren();
	if (!r.ok) {
		tbody.appendChild(row([el('td', 'refused: ' + r.status + ' ' + r.message)]));
		return;
	}
	for (const b of r.body)
		tbody.appendChild(row([shaCell(b.sha256), sizeCell(b.size),
			b.present ? 'here' : 'not fetched', filesCell(b.files)]));
	if (r.body.length === 0)
		tbody.appendChild(emptyRow('pins', 'nothing pinned'));
}

function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

// Pin (or unpin: the button pressed) a revision's files.
async function setPins(ev) {
	ev.preventDefault();
	const pin = !(ev.submitter && ev.submitter.value === 'unpin');
	const body = { repo: $('pin-repo').value.trim(), pin };
	const rev = $('pin-rev').value.trim();
	const include = words($('pin-include').value);
	if (rev) body.revision = rev;
	if (include.length) body.include = include;
	setResult('pin-result', '');
	const r = await call('POST', '/api/ggufd/pins', body);
	if (r.ok) {
		const a = r.body;
		const at = a.repo + '@' + a.commit.slice(0, 12) + '\u2026';
		const verb = a.pinned ? 'pinned' : 'unpinned';
		if (a.files === 0)
			setResult('pin-result', 'no file of ' + at + ' matches ' + include.join(' ') + ': nothing ' + verb, 'refused');
		else
			setResult('pin-result', verb + ' ' + plural(a.files, 'file', 'files') + ' (' + plural(a.blobs, 'blob', 'blobs') +
				', ' + size(a.bytes) + ') of ' + at, 'done');
	} else {
		const what = r.status === 404 ? ' (pins are about files held here: pull the revision first)' : '';
		setResult('pin-result', 'refused: ' + r.status + ' ' + r.message + what, 'refused');
	}
	await showPins();
}

// Without an admin token the view says so, with the server's answer.
async function showAdmin() {
	const r = await call('GET', '/api/ggufd/tokens');
	const refused = $('admin-refused');
	if (!r.ok) {
		const what = r.status === 401 ? ' Enter an admin token in the token field above.'
			: r.status === 403 ? ' This view needs a token of admin scope.' : '';
		refused.textContent = 'Refused: ' + r.status + ' ' + r.message + '.' + what;
		refused.hidden = false;
		$('admin-body').hidden = true;
		return;
	}
	refused.hidden = true;
	$('admin-body').hidden = false;
	renderTokens(r.body);
	await showPins();
}

async function addToken(ev) {
	ev.preventDefault();
	clearNewToken();
	setResult('token-result', '');
	const body = { name: $('tok-name').value.trim(), scope: $('tok-scope').value };
	const repos = words($('tok-repos').value);
	const paths = words($('tok-paths').value);
	if (repos.length) body.repos = repos;
	if (paths.length) body.paths = paths;
	const r = await call('POST', '/api/ggufd/tokens', body);
	if (r.status === 201) {
		$('new-token-value').textContent = r.body.token;
		$('new-token-copy').textContent = 'copy';
		$('new-token').hidden = false;
		setResult('token-result', 'created token ' + r.body.name + ' (' + r.body.scope + ')', 'done');
		$('token-form').reset();
	} else {
		setResult('token-result', 'refused: ' + r.status + ' ' + r.message, 'refused');
	}
	await showAdmin();
}

async function revokeToken(name) {
	const r = await call('DELETE', '/api/ggufd/tokens/' + encodeURIComponent(name));
	if (r.ok) setResult('token-result', 'revoked token ' + name, 'done');
	else setResult('token-result', 'refused: ' + r.status + ' ' + r.message, 'refused');
	await showAdmin();
}

function copyNewToken() {
	const code = $('new-token-value');
	const select = () => window.getSelection().selectAllChildren(code);
	if (!navigator.clipboard) { select(); return; }
	navigator.clipboard.writeText(code.textContent).then(
		() => { $('new-token-copy').textContent = 'copied'; },
		() => { select(); $('new-token-copy').textContent = 'press Ctrl+C'; });
}

// The pull started here: polled until it ends (or the view is left).
let pullTimer = null;

function stopPull() {
	if (pullTimer !== null) clearTimeout(pullTimer);
	pullTimer = null;
}

async function pollPull(id) {
	stopPull();
	const r = await call('GET', '/api/ggufd/pull/' + id);
	if (!r.ok) {
		setResult('pull-text', 'job ' + id + ': ' + r.status + ' ' + r.message, 'refused');
		return;
	}
	const j = r.body;
	$('pull-status').hidden = false;
	$('pull-progress').replaceWith(Object.assign(pullProgress(j), { id: 'pull-progress' }));
	setResult('pull-text', 'job ' + j.id + ' ' + j.state + ': ' + pullText(j),
		j.state === 'done' ? 'done' : j.state === 'failed' ? 'refused' : '');
	if (j.state === 'running' && !$('view-admin').hidden)
		pullTimer = setTimeout(() => pollPull(id).catch((e) => showError(e.message)), 1000);
	else if (j.pin)
		await showPins();
}

async function startPull(ev) {
	ev.preventDefault();
	stopPull();
	const body = { repo: $('pull-repo').value.trim(), pin: $('pull-pin').checked };
	const rev = $('pull-rev').value.trim();
	const include = words($('pull-include').value);
	if (rev) body.revision = rev;
	if (include.length) body.include = include;
	$('pull-status').hidden = false;
	const r = await call('POST', '/api/ggufd/pull', body);
	if (r.status !== 202) {
		setResult('pull-text', 'refused: ' + r.status + ' ' + r.message, 'refused');
		return;
	}
	await pollPull(r.body.id);
}

async function route() {
	const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || 'store';
	const [view, ...rest] = hash.split('/');
	for (const s of document.querySelectorAll('main > section'))
		s.hidden = s.id !== 'view-' + view;
	for (const a of document.querySelectorAll('header nav a'))
		a.classList.toggle('active', a.dataset.view === view);
	showError('');
	try {
		if (view !== 'activity') stopActivity();
		if (view !== 'disk') stopDisk();
		if (view !== 'pulls') stopPulls();
		if (view !== 'admin') { stopPull(); clearNewToken(); }
		if (view === 'store') await showStore(rest.join('/'));
		else if (view === 'activity') await showActivity();
		else if (view === 'disk') await showDisk();
		else if (view === 'uploads') await showUploads();
		else if (view === 'pulls') await showPulls();
		else if (view === 'audit') await showAudit();
		else if (view === 'admin') await showAdmin();
	} catch (e) {
		showError(e.message);
	}
}

document.addEventListener('DOMContentLoaded', () => {
	$('endpoint').textContent = location.origin;
	$('token').addEventListener('change', (e) => { state.token = e.target.value.trim(); route(); });
	const guard = (p) => p.catch((e) => showError(e.message));
	$('upload-form').addEventListener('submit', (e) => guard(upload(e)));
	$('token-form').addEventListener('submit', (e) => guard(addToken(e)));
	$('pull-form').addEventListener('submit', (e) => guard(startPull(e)));
	$('pin-form').addEventListener('submit', (e) => guard(setPins(e)));
	$('new-token-copy').addEventListener('click', copyNewToken);
	$('new-token-done').addEventListener('click', clearNewToken);
	$('up-file').addEventListener('change', () => {
		const f = $('up-file').files[0];
		if (f && !$('up-path').value) $('up-path').placeholder = f.name;
	});
	$('file-filter').addEventListener('input', () => { state.page = 0; guard(renderFiles()); });
	$('prev').addEventListener('click', () => { if (state.page > 0) { state.page--; guard(renderFiles()); } });
	$('next').addEventListener('click', () => { state.page++; guard(renderFiles()); });
	window.addEventListener('hashchange', route);
	route();
});
