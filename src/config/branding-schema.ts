// The operator's branding of the pages people see (sign-in, consent, approvals, device, account):
// product name, logo, accent colour, support link. Every value is validated here because it ends up
// in HTML (escaped by JSX) and, for the colour, in the stylesheet, where nothing is escaped.
import { z } from 'zod';
import { httpsOrLoopbackUrl } from './values.ts';

/** #rgb or #rrggbb: the only shape that reaches the stylesheet. */
export const hexColour = z.string().regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, 'must be a CSS hex colour: #rgb or #rrggbb');

export const brandingSchema = z
  .strictObject({
    product_name: z
      .string()
      .trim()
      .min(1)
      .max(60)
      .regex(/^[^\p{Cc}\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]+$/u, 'must be plain text: no control or direction-changing characters')
      .default('Consulate')
      .describe('The name people see in every page title and header, e.g. "Example Corp sign-in".'),
    logo_url: httpsOrLoopbackUrl
      .optional()
      .describe('A logo shown beside the product name (about 32 pixels high). An https URL (http only on loopback); the pages\' Content-Security-Policy allows images from its origin only.'),
    accent_color: hexColour
      .default('#1d4ed8')
      .describe('Colour of the primary buttons, links and focus rings, as #rgb or #rrggbb. Text on buttons turns black or white to stay readable; links are darkened if needed to keep a 4.5:1 contrast on white.'),
    support_url: httpsOrLoopbackUrl.optional().describe('Where the "Help and support" link in every page\'s footer leads: your help desk or support page. Without it the pages have no footer.'),
  })
  .prefault({})
  .describe('How the pages people see look: product name, logo, accent colour and support link. Applied on reload like the rest of the config.');
