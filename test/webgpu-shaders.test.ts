// The generated shader bundle must match shaders/*.wgsl, and every shader must document itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, renderShaderBundle, SHADER_DIR } from '../scripts/bundle-shaders.ts';
import { SHADERS } from '../src/kernels/webgpu/shaders.gen.ts';

describe('WGSL shader bundle', () => {
  it('src/kernels/webgpu/shaders.gen.ts is up to date (run `npx tsx scripts/bundle-shaders.ts`)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(renderShaderBundle());
  });

  it('bundles every shader, each opening with a comment on what it computes, its buffers and its tiling', () => {
    const files = readdirSync(SHADER_DIR).filter((f) => f.endsWith('.wgsl'));
    expect(Object.keys(SHADERS).sort()).toEqual(files.map((f) => f.replace(/\.wgsl$/, '')).sort());
    for (const f of files) {
      const text = readFileSync(join(SHADER_DIR, f), 'utf8');
      expect(text.startsWith(`// ${f}:`), f).toBe(true);
      expect(text, f).toMatch(/Buffers/);
      expect(text, f).toMatch(/workgroup/i);
    }
  });

  it('the WebGPU core imports neither node: modules nor the webgpu package', () => {
    const dir = join(SHADER_DIR, '../src/kernels/webgpu');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/from\s+['"]node:/);
      expect(text, f).not.toMatch(/from\s+['"]webgpu['"]/);
      expect(text, f).not.toMatch(/import\(\s*['"](node:|webgpu['"])/);
    }
  });
});
