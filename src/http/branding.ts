// The operator's branding (config `branding:`) as the pages use it: product name, logo, support
// link, and the stylesheet with the accent colours appended, served at a path that carries a hash
// of its content, so browsers keep it for a year and a changed accent (a reload) is a new URL.
// Colours reach the CSS only as #rrggbb computed from a validated hex value; a contrast check
// picks the button text colour and darkens links and the focus ring until they stay readable.
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { brandingSchema } from '../config/branding-schema.ts';
import type { Config } from '../config/load.ts';
import { baseStylesheet } from './stylesheet.ts';

export type Brand = {
  productName: string;
  logoUrl?: string | undefined;
  supportUrl?: string | undefined;
  /** Where the pages link the stylesheet: /assets/consulate-<hash>.css. */
  stylesheetPath: string;
  stylesheet: string;
  etag: string;
  /** The page Content-Security-Policy: own stylesheet, no scripts, images only from the logo's origin. */
  csp: string;
};

declare module 'hono' {
  interface ContextVariableMap {
    brand: Brand;
  }
}

type Rgb = [number, number, number];

const rgbOf = (hex: string): Rgb => {
  const digits = hex.length === 4 ? [...hex.slice(1)].map((d) => d + d).join('') : hex.slice(1);
  return [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16)) as Rgb;
};
const hexOf = (rgb: Rgb): string => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/** Relative luminance and contrast ratio (WCAG 2.2, "contrast ratio" definition). */
function luminance(rgb: Rgb): number {
  const [r, g, b] = rgb.map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a: Rgb, b: Rgb): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The colour, mixed with black step by step until it has `min` contrast on `background`. */
function readableOn(colour: Rgb, background: Rgb, min: number): Rgb {
  let mixed = colour;
  for (let step = 0; step < 40 && contrast(mixed, background) < min; step++) mixed = mixed.map((v) => v * 0.92) as Rgb;
  return mixed;
}

const white: Rgb = [255, 255, 255];
const nearBlack: Rgb = [17, 17, 17];
const pageBackground: Rgb = [243, 244, 246];

/** The CSS custom properties of an accent colour. */
export function accentProperties(accent: string): Record<'--accent' | '--accent-text' | '--link' | '--focus', string> {
  const rgb = rgbOf(accent);
  return {
    '--accent': hexOf(rgb),
    '--accent-text': contrast(rgb, white) >= contrast(rgb, nearBlack) ? '#ffffff' : hexOf(nearBlack),
    '--link': hexOf(readableOn(rgb, white, 4.5)),
    '--focus': hexOf(readableOn(rgb, pageBackground, 3)),
  };
}

export function createBrand(branding: Config['main']['branding']): Brand {
  const properties = Object.entries(accentProperties(branding.accent_color)).map(([name, value]) => `${name}: ${value};`);
  const stylesheet = `${baseStylesheet.trim()}\n:root { ${properties.join(' ')} }\n`;
  const hash = createHash('sha256').update(stylesheet).digest('base64url').slice(0, 16);
  const images = branding.logo_url ? `; img-src ${new URL(branding.logo_url).origin}` : '';
  return {
    productName: branding.product_name,
    logoUrl: branding.logo_url,
    supportUrl: branding.support_url,
    stylesheetPath: `/assets/consulate-${hash}.css`,
    stylesheet,
    etag: `"${hash}"`,
    csp: `default-src 'none'; style-src 'self'${images}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

let defaultBrand: Brand | undefined;

/** The brand of this request (set by the app's first middleware); the default one outside the app (unit tests). */
export function brandOf(c: Context): Brand {
  return c.get('brand') ?? (defaultBrand ??= createBrand(brandingSchema.parse({})));
}

/** GET <stylesheetPath>: the stylesheet, cacheable for a year (its URL changes with its content). */
export function stylesheetRoutes(brand: Brand): Hono {
  const app = new Hono();
  app.get(brand.stylesheetPath, (c) => {
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    c.header('ETag', brand.etag);
    if (c.req.header('if-none-match') === brand.etag) return c.body(null, 304);
    c.header('Content-Type', 'text/css; charset=utf-8');
    return c.body(brand.stylesheet);
  });
  return app;
}
