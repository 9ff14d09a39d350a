// A receipt's explanation as a page shows it (the person's own receipts at /account, any receipt at
// /admin): the summary, the facts, and why, in the words of audit/explain.ts.
import type { Explanation } from '../audit/explain.ts';

export function ExplanationView({ explained, showEvent = false }: { explained: Explanation; showEvent?: boolean }) {
  return (
    <>
      <p>
        <strong>{explained.summary}</strong>
      </p>
      <dl class="facts">
        <dt>Receipt</dt>
        <dd>
          <code>{explained.receipt}</code>
        </dd>
        {showEvent ? (
          <>
            <dt>Event</dt>
            <dd>{explained.event}</dd>
          </>
        ) : null}
        <dt>When</dt>
        <dd>{explained.at}</dd>
        <dt>Outcome</dt>
        <dd>{explained.outcome}</dd>
        {explained.decided ? (
          <>
            <dt>Decided at</dt>
            <dd>
              {explained.decided.step}
              {explained.decided.rule ? ` (${explained.decided.rule})` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {explained.lines.length ? (
        <ul aria-label="Why">
          {explained.lines.map((line) => (
            <li>{line}</li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
