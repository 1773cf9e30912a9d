import { chromium } from 'playwright-core';
import { preview } from 'vite';

const server = await preview({ root: '.', preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
const port = server.httpServer.address().port;
const sets = {
  nodisable: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
  angle: [
    '--enable-unsafe-webgpu',
    '--use-webgpu-adapter=swiftshader',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
  ],
};
for (const [k, flags] of Object.entries(sets)) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...flags],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/?backend=webgpu`);
  await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 120000 });
  console.log(k, await page.textContent('#backend'));
  await browser.close();
}
server.httpServer.close();
