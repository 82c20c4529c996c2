// admin.mjs: the dashboard's admin view (#admin) in a real browser (Debian's
// chromium, driven by playwright-core).
// Usage: node admin.mjs BASE ADMIN_TOKEN UPLOAD_TOKEN REPO SHOTS_DIR
// Prints one JSON object of observations; the shell test judges them.
// Screenshots of every view go to SHOTS_DIR.
import { chromium } from 'playwright-core';

const [base, adm, up, repo, shots] = process.argv.slice(2);
const out = { console: [], errors: [], shots: [] };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	timeout: 60000,
});

async function setToken(page, t) {
	await page.fill('#token', t);
	await page.dispatchEvent('#token', 'change');
}

// whoami with a token, from outside the page (as any client would).
async function whoami(token) {
	const r = await fetch(base + '/api/whoami-v2', { headers: { Authorization: 'Bearer ' + token } });
	return r.status;
}

async function rows(page, sel) {
	return page.$$eval(sel + ' tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

async function shot(page, view) {
	const path = shots + '/' + view + '.png';
	await page.screenshot({ path, fullPage: true });
	out.shots.push(path);
}

try {
	const page = await browser.newPage();
	page.setDefaultTimeout(30000);
	page.on('console', (m) => { if (m.type() === 'error') out.console.push(m.text()); });
	page.on('pageerror', (e) => out.errors.push(String(e)));

	// Without a token: the refusal, in words (not a blank view).
	await page.goto(base + '/#admin', { waitUntil: 'load' });
	await page.waitForSelector('#admin-refused:not([hidden])');
	out.noToken = { text: await page.textContent('#admin-refused'), body: !(await page.isHidden('#admin-body')) };
	await shot(page, 'admin-refused');
	// An upload token is not enough.
	await setToken(page, up);
	await page.waitForFunction(() => document.getElementById('admin-refused').textContent.includes('403'));
	out.upToken = { text: await page.textContent('#admin-refused'), body: !(await page.isHidden('#admin-body')) };

	// With the admin token: the tokens.
	await setToken(page, adm);
	await page.waitForSelector('#admin-body:not([hidden]) #tokens tbody tr');
	out.tokens = await rows(page, '#tokens');

	// Add one, bound to the repo and a glob: shown once, with the warning.
	await page.fill('#tok-name', 'web1');
	await page.selectOption('#tok-scope', 'upload');
	await page.fill('#tok-repos', repo);
	await page.fill('#tok-paths', 'ruvltra-*.gguf, README.md');
	await page.click('#tok-add');
	await page.waitForSelector('#new-token:not([hidden])');
	const tok = await page.textContent('#new-token-value');
	out.newToken = {
		token: tok,
		warning: await page.textContent('#new-token .warning'),
		result: await page.textContent('#token-result'),
		copyButton: await page.isVisible('#new-token-copy'),
	};
	await page.waitForFunction(() => [...document.querySelectorAll('#tokens tbody tr td:first-child')]
		.some((td) => td.textContent === 'web1'));
	out.tokensAfterAdd = await rows(page, '#tokens');
	out.whoamiNew = await whoami(tok);
	// The same name again is refused in the page (409).
	await page.fill('#tok-name', 'web1');
	await page.click('#tok-add');
	await page.waitForFunction(() => document.getElementById('token-result').className === 'refused');
	out.duplicate = { result: await page.textContent('#token-result'), shown: !(await page.isHidden('#new-token')) };

	// Revoke it, through the confirmation.
	const web1 = page.locator('#tokens tbody tr', { hasText: 'web1' });
	await web1.locator('button.revoke').click();
	out.confirm = await web1.locator('td:last-child').textContent();
	await web1.locator('button.confirm-revoke').click();
	await page.waitForFunction(() => [...document.querySelectorAll('#tokens tbody tr')]
		.some((tr) => tr.cells[0].textContent === 'web1' && tr.cells[5].textContent === 'revoked'));
	out.revokeResult = await page.textContent('#token-result');
	out.tokensAfterRevoke = await rows(page, '#tokens');
	out.whoamiRevoked = await whoami(tok);

	// A pull of the fake Hub's repo, followed to its end.
	await page.fill('#pull-repo', repo);
	await page.fill('#pull-rev', 'main');
	await page.fill('#pull-include', '*.gguf');
	await page.setChecked('#pull-pin', true);
	await page.click('#pull-start');
	await page.waitForFunction(() => /^job \d+ (done|failed)/.test(document.getElementById('pull-text').textContent),
		null, { timeout: 90000 });
	out.pull = {
		text: await page.textContent('#pull-text'),
		cls: await page.getAttribute('#pull-text', 'class'),
		value: await page.$eval('#pull-progress', (p) => p.value),
		max: await page.$eval('#pull-progress', (p) => p.max),
	};
	// The pull pinned its files: the pins list, refreshed when it ended.
	await page.waitForFunction(() => document.querySelectorAll('#pins tbody tr td:nth-child(4)').length === 2);
	out.pins = await rows(page, '#pins');
	await shot(page, 'admin');

	// The pulls view lists the job, done.
	await page.click('#view-admin a[href="#pulls"]');
	await page.waitForSelector('#pulls tbody tr');
	out.pullsUrl = page.url();
	out.pulls = await rows(page, '#pulls');
	await shot(page, 'pulls');

	// Every other view, for the record, by its address.
	for (const view of ['store', 'activity', 'uploads', 'upload', 'audit']) {
		await page.goto(base + '/#' + view, { waitUntil: 'load' });
		await setToken(page, adm);
		await page.waitForSelector('#view-' + view + ':not([hidden])');
		if (view === 'store') await page.waitForSelector('#repos tbody tr');
		if (view === 'audit') await page.waitForSelector('#audit tbody tr');
		if (view === 'uploads' || view === 'audit') await page.waitForLoadState('networkidle');
		await shot(page, view);
	}
	out.auditRows = await rows(page, '#audit');
	// The admin view by its address, after a reload: the token field is
	// empty again (the token was never stored), so it refuses.
	await page.goto(base + '/#admin', { waitUntil: 'load' });
	await page.reload({ waitUntil: 'load' });
	await page.waitForSelector('#admin-refused:not([hidden])');
	out.afterReload = { token: await page.inputValue('#token'), text: await page.textContent('#admin-refused') };
	out.storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
