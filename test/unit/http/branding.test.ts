// Branding from config: only validated values reach the pages and the stylesheet (a hex colour, https
// or loopback URLs, plain text), and the accent's derived colours stay readable whatever the operator picks.
import { describe, expect, it } from 'vitest';
import { brandingSchema } from '../../../src/config/branding-schema.ts';
import { accentProperties, contrast, createBrand } from '../../../src/http/branding.ts';

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const white = rgb('#ffffff');

describe('branding config', () => {
  it('defaults to Consulate with the default accent, no logo and no support link', () => {
    expect(brandingSchema.parse({})).toEqual({ product_name: 'Consulate', accent_color: '#1d4ed8' });
  });

  it('accepts hex colours and https or loopback URLs', () => {
    const ok = brandingSchema.parse({ product_name: ' Example Corp ', accent_color: '#0F0', logo_url: 'https://cdn.example.com/logo.svg', support_url: 'http://127.0.0.1:8080/help' });
    expect(ok).toEqual({ product_name: 'Example Corp', accent_color: '#0F0', logo_url: 'https://cdn.example.com/logo.svg', support_url: 'http://127.0.0.1:8080/help' });
  });

  it('refuses what could break out of its place: CSS in a colour, scripts or plain http in URLs, control characters in the name', () => {
    for (const accent_color of ['red', '#12345', '#1234567', 'url(x)', '#fff; } body { display: none', '#fff\n']) expect(brandingSchema.safeParse({ accent_color }).success, accent_color).toBe(false);
    for (const url of ['javascript:alert(1)', 'http://help.example.com/', 'data:image/svg+xml,<svg/>', 'https://x.example/#frag']) {
      expect(brandingSchema.safeParse({ logo_url: url }).success, url).toBe(false);
      expect(brandingSchema.safeParse({ support_url: url }).success, url).toBe(false);
    }
    for (const product_name of ['', 'a\u202Eb', 'line\nbreak', 'x'.repeat(61)]) expect(brandingSchema.safeParse({ product_name }).success, product_name).toBe(false);
    expect(brandingSchema.safeParse({ colour: '#fff' }).success).toBe(false);
  });
});

describe('accent colours', () => {
  it('a dark accent: white button text, links and focus ring in the accent itself', () => {
    expect(accentProperties('#1d4ed8')).toEqual({ '--accent': '#1d4ed8', '--accent-text': '#ffffff', '--link': '#1d4ed8', '--focus': '#1d4ed8' });
  });

  it('a light accent: dark button text, links darkened to 4.5:1 on white, the focus ring to 3:1 on the page', () => {
    const light = accentProperties('#fde047');
    expect(light['--accent']).toBe('#fde047');
    expect(light['--accent-text']).toBe('#111111');
    expect(contrast(rgb(light['--link']), white)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(rgb(light['--focus']), rgb('#f3f4f6'))).toBeGreaterThanOrEqual(3);
    expect(accentProperties('#abc')['--accent']).toBe('#aabbcc');
  });

  it('the stylesheet URL changes with the accent, and only the logo’s origin may serve images', () => {
    const a = createBrand(brandingSchema.parse({ accent_color: '#123456' }));
    const b = createBrand(brandingSchema.parse({ accent_color: '#654321', logo_url: 'https://cdn.example.com/brand/logo.png' }));
    expect(a.stylesheetPath).toMatch(/^\/assets\/consulate-[A-Za-z0-9_-]{16}\.css$/);
    expect(a.stylesheetPath).not.toBe(b.stylesheetPath);
    expect(a.stylesheet).toContain('--accent: #123456;');
    expect(a.csp).toBe("default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(b.csp).toBe("default-src 'none'; style-src 'self'; img-src https://cdn.example.com; frame-ancestors 'none'; base-uri 'none'");
  });
});
