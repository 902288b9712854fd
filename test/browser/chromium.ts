// How the browser tests start Debian's Chromium: headless, WebGPU on (SwiftShader here), and no
// traffic beyond 127.0.0.1. CHROMIUM=/path/to/chromium picks another binary.
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const FLAGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-dev-shm-usage', // containers often have a small /dev/shm
  // Nothing but 127.0.0.1: no background requests to Google's services.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-client-side-phishing-detection',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-default-browser-check',
  '--no-pings',
];
