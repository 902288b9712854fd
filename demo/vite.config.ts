// Vite 7 config for the demo page (index.html) and the in-browser self-test page (test.html).
//   npm run demo                 dev server on http://127.0.0.1:5173/
//   npx vite build --config demo/vite.config.ts    static build in demo/dist (what test/browser serves)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  // The library sources live in ../src; let the dev server read them.
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The ImageNet labels and the shader bundle make one ~300 kB chunk; that is expected.
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        test: fileURLToPath(new URL('test.html', import.meta.url)),
      },
    },
  },
  esbuild: { target: 'es2022' },
  clearScreen: false,
  logLevel: 'info',
});
