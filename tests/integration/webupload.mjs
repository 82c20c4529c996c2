// webupload.mjs: the dashboard's upload form in a real browser (Debian's
// chromium, driven by playwright-core).
// Usage: node webupload.mjs BASE UPLOAD_TOKEN ADMIN_TOKEN GGUF OTHER_GGUF BAD_README
// Prints one JSON object of observations; the shell test judges them.
import { chromium } from 'playwright-core';

const [base, tok, adm, gguf, other, badReadme] = process.argv.slice(2);
const NAME = 'ruvltra-0.5b-q4_k_m.gguf';
const out = { console: [], errors: [] };
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	timeout: 60000,
});

// One upload through the form: its result line and class.
async function send(page, file, path, opts = {}) {
	await page.evaluate(() => {
		document.getElementById('up-result').textContent = '';
		document.getElementById('error').hidden = true;
	});
	await page.setInputFiles('#up-file', file);
	await page.fill('#up-path', path);
	await page.fill('#up-msg', opts.message || '');
	await page.setChecked('#up-overwrite', !!opts.overwrite);
	await page.click('#up-send');
	await page.waitForFunction(() => document.getElementById('up-result').textContent !== '' ||
		!document.getElementById('error').hidden);
	return {
		text: await page.textContent('#up-result'),
		cls: await page.getAttribute('#up-result', 'class'),
		error: (await page.isHidden('#error')) ? '' : await page.textContent('#error'),
	};
}

async function setToken(page, t) {
	await page.fill('#token', t);
	await page.dispatchEvent('#token', 'change');
}

try {
	const page = await browser.newPage();
	page.setDefaultTimeout(30000);
	page.on('console', (m) => { if (m.type() === 'error') out.console.push(m.text()); });
	page.on('pageerror', (e) => out.errors.push(String(e)));
	await page.goto(base + '/#upload', { waitUntil: 'load' });
	await page.waitForSelector('#upload-form');
	out.visible = !(await page.isHidden('#view-upload'));
	// Without a token the page says what is missing and sends nothing.
	out.noToken = await send(page, gguf, NAME);
	await setToken(page, tok);
	out.first = await send(page, gguf, NAME, { message: 'from the web page' });
	out.overwrite = await send(page, other, NAME);
	out.badCard = await send(page, badReadme, 'README.md');
	// An admin replaces the file when it asks to.
	await setToken(page, adm);
	out.adminNoAsk = await send(page, other, NAME);
	out.adminAsk = await send(page, other, NAME, { overwrite: true });
} finally {
	await browser.close();
}
console.log(JSON.stringify(out));
