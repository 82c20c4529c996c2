// dashboard.mjs: the dashboard in a real browser (Debian's chromium, driven
// by playwright-core).  Usage: node dashboard.mjs BASE REPO N_FILES NEEDLE
// Prints one JSON object of observations; the shell test judges them.
import { chromium } from 'playwright-core';

const [base, repo, nfiles, needle] = process.argv.slice(2);
const out = { console: [], csp: [], errors: [] };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	timeout: 60000,
});
try {
	const page = await browser.newPage();
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
	// Search narrows the list.
	await page.fill('#file-filter', needle);
	await page.waitForFunction((n) => {
		const rows = [...document.querySelectorAll('#files tbody tr td:first-child')];
		return rows.length > 0 && rows.every((r) => r.textContent.includes(n));
	}, needle);
	out.filtered = await page.$$eval('#files tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
	// A resolve link downloads the file through ggufd.
	const href = await page.getAttribute('#files tbody tr td:nth-child(6) a', 'href');
	out.ggufCell = await page.textContent('#files tbody tr td:nth-child(3)');
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
