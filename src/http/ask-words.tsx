// What a request asks, as the consent page, the device page and the approvals inbox all show it:
// identity items, then "On <resource>" with its scopes and authorization details, each detail with
// its facts (a tool call's arguments, a payment's creditor) as a definition list. The words come
// from consent/describe.ts, so the three pages say the same thing the same way.
import type { AskItem, AskWords } from '../consent/describe.ts';

function Item(props: { item: AskItem }) {
  const { item } = props;
  return (
    <li>
      {item.text}
      {item.facts.length || item.more ? (
        <dl class="facts">
          {item.facts.map((fact) => (
            <>
              <dt>{fact.label}</dt>
              <dd>{fact.value}</dd>
            </>
          ))}
          {item.more ? (
            <>
              <dt>…</dt>
              <dd>{`and ${item.more} more`}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
    </li>
  );
}

/** `level`: the heading level of "On <resource>" (2 on a page of its own, 3 inside a request's section). */
export function AskWordsView(props: { words: AskWords; level?: 2 | 3 }) {
  const { words } = props;
  const Heading = props.level === 3 ? 'h3' : 'h2';
  return (
    <>
      {words.identity.length || !words.resource ? (
        <ul>
          {words.identity.map((text) => (
            <li>{text}</li>
          ))}
          {!words.resource && words.otherwise ? <li>{words.otherwise}</li> : null}
        </ul>
      ) : null}
      {words.resource ? (
        <section aria-label={words.resource}>
          <Heading>On {words.resource}</Heading>
          <ul>
            {words.items.map((item) => (
              <Item item={item} />
            ))}
            {words.otherwise ? <li>{words.otherwise}</li> : null}
          </ul>
        </section>
      ) : null}
    </>
  );
}
