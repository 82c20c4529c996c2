// disk.mjs: the dashboard's disk view (#disk) and the admin view's pins in
// a real browser (Debian's chromium, driven by playwright-core).
// Usage: node disk.mjs BASE MODE SHOTS_DIR [ADMIN_TOKEN REPO PIN_PATH EVICTED_PATH]
//   MODE quota:   #disk under a quota (then a download of EVICTED_PATH that
//                 evicts again, seen by the poll), then pin / unpin in #admin, "pinned"
//                 in #store and #disk, an unknown revision refused
//   MODE noquota: #disk without a quota
// (Both: what the blob store part says; these ggufds have none.)
// Prints one JSON object of observations; the shell test judges them.
// Screenshots go to SHOTS_DIR.
import { chromium } from 'playwright-core';

const [base, mode, shots, adm, repo, pinPath, evicted] = process.argv.slice(2);
const out = { console: [], errors: [] };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	timeout: 60000,
});

async function shot(page, name) {
	await page.screenshot({ path: shots + '/' + name + '.png', fullPage: true });
}

async function rows(page, sel) {
	return page.$$eval(sel + ' tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

// Same-document navigation: the token typed into the page stays.
async function go(page, hash) {
	await page.evaluate((h) => { location.hash = h; }, hash);
	await page.waitForSelector('#view-' + hash.split('/')[0] + ':not([hidden])');
}

// What the disk view shows.
async function disk(page) {
	return page.evaluate(() => {
		const t = (id) => document.getElementById(id).textContent;
		const rows = (id) => [...document.querySelectorAll('#' + id + ' tbody tr')]
			.map((tr) => [...tr.cells].map((c) => c.textContent));
		const bar = document.getElementById('disk-bar');
		return {
			summary: t('disk-summary'),
			summaryTitle: document.getElementById('disk-summary').title,
			legend: [...document.querySelectorAll('#disk-legend li')].map((li) => li.textContent),
			segs: [...bar.querySelectorAll('.seg')].map((s) => [s.className.replace('seg ', ''),
				s.getBoundingClientRect().width / bar.clientWidth]),
			fs: t('disk-fs'),
			next: rows('disk-next'),
			nextTitles: [...document.querySelectorAll('#disk-next tbody tr td:nth-child(2)')].map((td) => td.title),
			copyButtons: document.querySelectorAll('#disk-next button.copy').length,
			evictions: t('disk-evictions'),
			recent: rows('disk-recent'),
			blobStore: t('blob-store-summary'),
			blobStoreTable: !document.getElementById('blob-store').hidden,
		};
	});
}

async function pinForm(page, rev, include, button) {
	await page.fill('#pin-repo', repo);
	await page.fill('#pin-rev', rev);
	await page.fill('#pin-include', include);
	await page.evaluate(() => { document.getElementById('pin-result').textContent = ''; });
	await page.click(button);
	await page.waitForFunction(() => document.getElementById('pin-result').textContent !== '');
	return { text: await page.textContent('#pin-result'), cls: await page.getAttribute('#pin-result', 'class') };
}

// The store view's row for a path: its "blob" cell (found by its header).
async function storeBlob(page) {
	await go(page, 'store/' + repo);
	await page.waitForSelector('#files tbody tr');
	const r = await rows(page, '#files');
	const heads = await page.$$eval('#files thead th', (ths) => ths.map((t) => t.textContent));
	const blob = heads.indexOf('blob');
	return Object.fromEntries(r.map((c) => [c[0], c[blob]]));
}

async function apiPins() {
	const r = await fetch(base + '/api/ggufd/pins', { headers: { Authorization: 'Bearer ' + adm } });
	return { status: r.status, body: await r.json() };
}

try {
	const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	page.setDefaultTimeout(30000);
	page.on('console', (m) => { if (m.type() === 'error') out.console.push(m.text()); });
	page.on('pageerror', (e) => out.errors.push(String(e)));

	// The disk view by its address, with no token typed in.
	await page.goto(base + '/#disk', { waitUntil: 'load' });
	await page.waitForFunction(() => document.querySelectorAll('#disk-recent tbody tr').length > 0 &&
		document.getElementById('disk-summary').textContent !== '');
	out.navActive = await page.textContent('header nav a.active');
	out.disk = await disk(page);
	await shot(page, mode === 'quota' ? 'disk' : 'disk-noquota');

	if (mode === 'quota') {
		// A download from outside evicts again: the poll shows it in place.
		const r = await fetch(base + '/' + repo + '/resolve/main/' + evicted);
		out.refetch = { status: r.status, bytes: (await r.arrayBuffer()).byteLength };
		await page.waitForFunction(() => document.querySelectorAll('#disk-recent tbody tr').length === 2,
			null, { timeout: 30000 });
		out.diskPolled = await disk(page);
		out.urlPolled = page.url();

		// The admin view: the pins, then pin one file through the form.
		await page.fill('#token', adm);
		await page.dispatchEvent('#token', 'change');
		await go(page, 'admin');
		await page.waitForSelector('#admin-body:not([hidden]) #pins tbody tr');
		out.pinsBefore = await rows(page, '#pins');
		out.pin = await pinForm(page, '', pinPath, '#pin-pin');
		await page.waitForFunction(() => !document.querySelector('#pins tbody tr').textContent.includes('nothing pinned'));
		out.pinsAfterPin = await rows(page, '#pins');
		out.apiAfterPin = await apiPins();
		await shot(page, 'admin');
		out.storeAfterPin = await storeBlob(page);
		await go(page, 'disk');
		await page.waitForFunction(() => document.getElementById('disk-legend').textContent.includes('pinned (never evicted) 293.0 KiB'));
		out.diskAfterPin = await disk(page);
		await shot(page, 'disk-pinned');

		// Unpin it, then an unknown revision.
		await go(page, 'admin');
		await page.waitForSelector('#admin-body:not([hidden]) #pins tbody tr');
		out.unpin = await pinForm(page, 'main', pinPath, '#pin-unpin');
		await page.waitForFunction(() => document.querySelector('#pins tbody tr').textContent.includes('nothing pinned'));
		out.pinsAfterUnpin = await rows(page, '#pins');
		out.apiAfterUnpin = await apiPins();
		out.unknown = await pinForm(page, 'nope', '', '#pin-pin');
		out.storeAfterUnpin = await storeBlob(page);
	}
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
