// `npm run example:shop [request…]`, after `npm start`: starts the shop API on loopback, then runs
// the shopping assistant against Consulate with the demo agent's credentials. The order waits
// until the person approves it in Consulate's approval inbox. Exits 0 when an order was placed.
//   CONSULATE_ISSUER               default http://localhost:8080
//   SHOPPING_ASSISTANT_CLIENT_ID   default shopping-assistant
//   SHOPPING_ASSISTANT_SECRET      default the demo secret (public on purpose: config/ only)
//   SHOP_PERSON                    whom it shops for; default alice@example.com
import { runShoppingAssistant } from './agent.ts';
import { startShopApi } from './shop-api.ts';

const issuer = process.env.CONSULATE_ISSUER ?? 'http://localhost:8080';
const clientId = process.env.SHOPPING_ASSISTANT_CLIENT_ID ?? 'shopping-assistant';
const clientSecret = process.env.SHOPPING_ASSISTANT_SECRET ?? 'Jm2oENqRuR046Ug8-9UvAp3EdOt2Ns6Mop7gmXeFdFQ';
const person = process.env.SHOP_PERSON ?? 'alice@example.com';
const request = process.argv.slice(2).join(' ') || 'Buy one pair of trail running shoes';
const inbox = `${issuer.replace(/\/$/, '')}/approvals`;

async function main(): Promise<number> {
  const shop = await startShopApi({ issuer });
  console.log(`Shop API on ${shop.url} (resource ${shop.resource}); Consulate at ${issuer}\n`);
  try {
    const result = await runShoppingAssistant({
      issuer,
      clientId,
      clientSecret,
      shopUrl: shop.url,
      person,
      request,
      onApproval: () => console.log(`\n  approve at ${inbox} as ${person}\n`),
    });
    if (result.errorCode === 'unknown_user_id') {
      console.log(`\nConsulate does not know ${person} yet: sign in once at ${issuer.replace(/\/$/, '')}/login as ${person}, then run this again.`);
    }
    if (result.order) console.log(`\nThe shop recorded: ${JSON.stringify(result.order, null, 2)}`);
    return result.outcome === 'ordered' ? 0 : 1;
  } catch (error) {
    // Not an OAuth answer: most likely nothing listens at the issuer.
    console.error(`\nCould not reach Consulate at ${issuer} (${error instanceof Error ? error.message : String(error)}). Start it with npm start.`);
    return 1;
  } finally {
    await shop.close();
  }
}

process.exitCode = await main();
