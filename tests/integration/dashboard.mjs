// dashboard.mjs: the dashboard in a real browser (Debian's chromium, driven
// by playwright-core).  Usage: node dashboard.mjs BASE REPO N_FILES NEEDLE SHOTS_DIR
// Prints one JSON object of observations; the shell test judges them.
import { chromium } from 'playwright-core';

const [base, repo, nfiles, needle, shots] = process.argv.slice(2);
const out = { console: [], csp: [], errors: [] };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	timeout: 60000,
});
try {
	const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	page.setDefaultTimeout(20000);
	page.on('console', (m) => {
		if (m.type() === 'error') out.console.push(m.text());
	});
	page.on('pageerror', (e) => out.errors.push(String(e)));
	await page.goto(base + '/', { waitUntil: 'load' });
	await page.waitForSelector('#repos tbody tr');
	out.title = await page.title();
	out.repos = await page.$$eval('#repos tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
	out.endpoint = await page.textContent('#endpoint');
	// Into the repo by clicking its link: the view has its own address.
	await page.click('#repos tbody a');
	await page.waitForSelector('#files tbody tr');
	out.url = page.url();
	out.files = await page.$$eval('#files tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
	out.page = await page.textContent('#page');
	out.howto = await page.textContent('#howto');
	// The client lines, each with its copy button; the ollama one comes
	// once the files (and so a GGUF quant) are known.
	await page.waitForFunction(() => /ollama pull .*:(?!latest)\S+ --insecure/.test(document.getElementById('howto').textContent));
	out.howtoLines = await page.$$eval('#howto .line', (ls) => ls.map((l) => ({
		code: l.querySelector('code').textContent, copy: !!l.querySelector('button.copy') })));
	out.columns = await page.$$eval('#files thead th', (ths) => ths.map((t) => t.textContent));
	out.hitsHeaderTitle = await page.getAttribute('#files thead th:nth-child(5)', 'title');
	// Every row as the reader sees it (lfs, GGUF with the shard, hits, last access).
	out.rows = await page.$$eval('#files tbody tr', (trs) => trs.map((tr) => {
		const c = tr.cells;
		const last = c[5].querySelector('span');
		return { path: c[0].textContent, lfs: c[2].textContent, gguf: c[3].textContent,
			shard: c[3].querySelector('.shard') ? c[3].querySelector('.shard').textContent : null,
			hits: c[4].textContent, hitsTitle: c[4].title, last: c[5].textContent,
			lastTitle: last ? last.title : null };
	}));
	await page.screenshot({ path: shots + '/store.png', fullPage: true });
	// Search narrows the list.
	await page.fill('#file-filter', needle);
	await page.waitForFunction((n) => {
		const rows = [...document.querySelectorAll('#files tbody tr td:first-child')];
		return rows.length > 0 && rows.every((r) => r.textContent.includes(n));
	}, needle);
	out.filtered = await page.$$eval('#files tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
	// A resolve link downloads the file through ggufd.
	const href = await page.getAttribute('#files tbody tr td:nth-child(9) a', 'href');
	out.ggufCell = await page.textContent('#files tbody tr td:nth-child(4)');
	const r = await page.request.get(href);
	out.download = { status: r.status(), bytes: (await r.body()).length };
	// Reloading a view's address lands on the same view.
	await page.reload({ waitUntil: 'load' });
	await page.waitForSelector('#files tbody tr');
	out.reloaded = !(await page.isHidden('#repo'));
	// The activity view: totals (the download above counted) and fetches.
	await page.goto(base + '/#activity', { waitUntil: 'load' });
	await page.waitForFunction(() => document.getElementById('totals').textContent.includes('served'));
	out.totals = await page.textContent('#totals');
	out.fetchRows = await page.$$eval('#fetches tbody tr', (trs) => trs.map((t) => t.textContent));
	await page.waitForFunction(() => / req\/s/.test(document.getElementById('rates').textContent));
	out.rates = await page.textContent('#rates');
	out.hour = await page.textContent('#hour');
	out.upstreamState = await page.textContent('#upstream-state');
	out.chartBars = await page.$$eval('#traffic-chart rect.bar.store', (rs) => rs.map((r) => Number(r.getAttribute('height'))));
	await page.screenshot({ path: shots + '/activity.png', fullPage: true });
	// The audit view (loopback, no admin token yet: admitted).
	await page.goto(base + '/#audit', { waitUntil: 'load' });
	await page.waitForSelector('#audit tbody tr');
	out.auditRows = await page.$$eval('#audit tbody tr', (trs) => trs.map((t) => t.textContent));
	// The uploads view without a token says why, in words.
	await page.goto(base + '/#uploads', { waitUntil: 'load' });
	await page.waitForSelector('#error:not([hidden])');
	out.uploadsError = await page.textContent('#error');
	out.nfiles = Number(nfiles);
	out.repo = repo;
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
