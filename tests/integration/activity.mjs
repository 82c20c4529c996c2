// activity.mjs: the Activity view during a cold fetch, in a real browser
// (Debian's chromium, driven by playwright-core).
// Usage: node activity.mjs BASE SHOTS_DIR
// Samples the progress bar of the fetch in flight (the view polls every
// 2 s) until the fetch is gone, and prints one JSON object of observations;
// the shell test judges them.
import { chromium } from 'playwright-core';

const [base, shots] = process.argv.slice(2);
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
	// At most 40 s of samples, every 400 ms; stop once a fetch was seen and
	// is gone again.
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
} catch (e) {
	out.errors.push(String(e));
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
