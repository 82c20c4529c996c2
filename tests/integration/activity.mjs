// activity.mjs: the Activity view in a real browser (Debian's chromium,
// driven by playwright-core).
// Usage: node activity.mjs BASE SHOTS_DIR [fetch|health NAME|nodes NAME]
// fetch (the default): samples the progress bar of the fetch in flight (the
// view polls every 2 s) until the fetch is gone.
// health NAME: waits for two polls (the rates need two), then reads the
// upstream's health, the rates, the totals, the last hour's line and the
// chart, and keeps a screenshot as NAME.png.
// nodes NAME: reads the upstream tiers and peers tables (the view shows
// them with several tiers or any peer) and keeps a screenshot as NAME.png.
// Prints one JSON object of observations; the shell test judges them.
import { chromium } from 'playwright-core';

const [base, shots, mode = 'fetch', name = 'health'] = process.argv.slice(2);
const out = { console: [], errors: [], samples: [], rows: [] };
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
	await page.goto(base + '/#activity', { waitUntil: 'load' });
	await page.waitForSelector('#fetches tbody tr');
	if (mode === 'fetch') {
		// At most 40 s of samples, every 400 ms; stop once a fetch was seen
		// and is gone again.
		let seen = false;
		for (let i = 0; i < 100; i++) {
			const s = await page.$$eval('#fetches tbody tr', (trs) => trs.map((tr) => {
				const p = tr.querySelector('progress');
				return p ? { value: p.value, max: p.max, text: tr.textContent } : null;
			}).filter(Boolean));
			if (s.length > 0) {
				const last = out.samples[out.samples.length - 1];
				if (!last || last.value !== s[0].value) out.samples.push(s[0]);
				if (!seen) await page.screenshot({ path: shots + '/activity.png', fullPage: true });
				seen = true;
			} else if (seen) {
				break;
			}
			await page.waitForTimeout(400);
		}
		out.totals = await page.textContent('#totals');
	} else if (mode === 'nodes') {
		await page.waitForSelector('#nodes:not([hidden]) #tiers tbody tr');
		const table = (id) => page.$$eval('#' + id + ' tbody tr', (trs) => trs.map((tr) => ({
			cls: tr.className,
			cells: [...tr.cells].map((c) => c.textContent),
			stateClass: tr.cells[2] ? tr.cells[2].className : null,
			sinceTitle: tr.cells[3] && tr.cells[3].querySelector('span[title]') ? tr.cells[3].querySelector('span[title]').title : null,
		})));
		out.upstream = await page.textContent('#upstream');
		out.state = await page.textContent('#upstream-state');
		out.tiers = await table('tiers');
		out.peersShown = await page.isVisible('#peers');
		out.peers = await table('peers');
		out.peersNone = await page.textContent('#peers-none');
		out.page = await page.textContent('body');
		await page.screenshot({ path: shots + '/' + name + '.png', fullPage: true });
	} else {
		// The second poll brings the rates (the first says it is measuring).
		await page.waitForFunction(() => / req\/s/.test(document.getElementById('rates').textContent));
		out.rates = await page.textContent('#rates');
		out.upstream = await page.textContent('#upstream');
		out.state = await page.textContent('#upstream-state');
		out.stateClass = await page.getAttribute('#upstream-state', 'class');
		out.stateTitle = await page.$eval('#upstream-state', (e) => {
			const t = e.querySelector('span[title]');
			return t ? t.title : null;
		});
		out.lastError = await page.textContent('#upstream-error');
		out.tooMany = await page.textContent('#upstream-429');
		out.totals = await page.textContent('#totals');
		out.hour = await page.textContent('#hour');
		out.chart = await page.$eval('#traffic-chart', (svg) => ({
			tag: svg.tagName.toLowerCase(),
			bars: svg.querySelectorAll('rect.bar').length,
			storeBars: svg.querySelectorAll('rect.bar.store').length,
			fetchBars: svg.querySelectorAll('rect.bar.fetch').length,
			points: svg.querySelectorAll('circle.point').length,
			line: svg.querySelector('polyline.upstream') ? svg.querySelector('polyline.upstream').getAttribute('points') : null,
			minutes: svg.querySelectorAll('g.minute').length,
			tips: [...svg.querySelectorAll('g.minute title')].map((t) => t.textContent),
			width: svg.getBoundingClientRect().width,
			height: svg.getBoundingClientRect().height,
			label: svg.getAttribute('aria-label'),
		}));
		await page.screenshot({ path: shots + '/' + name + '.png', fullPage: true });
	}
} catch (e) {
	out.errors.push(String(e));
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
