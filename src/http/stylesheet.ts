// The one stylesheet of Consulate's pages, hand-written: a readable column at phone width (375 px)
// and on a desktop, side-by-side buttons (the primary one filled with the accent colour, a
// secondary one outlined, both always visible), a focus ring on whatever the keyboard reaches, and
// notices that do not rely on colour alone (role="alert" / "status" carry the meaning). The accent
// colours (--accent, --accent-text, --link, --focus) are appended from the branding config
// (branding.ts); everything here is fixed text, so no config value is ever parsed as CSS.
export const baseStylesheet = `
:root {
  --text: #1a1d21;
  --muted: #575f6b;
  --bg: #f3f4f6;
  --surface: #fff;
  --border: #d4d8de;
  --field: #7b8491;
  --danger: #a3210f;
  --danger-bg: #fef3f2;
  --ok: #05603a;
  --ok-bg: #ecfdf3;
  --note-bg: #fffaeb;
  --note-border: #e9b949;
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  overflow-wrap: anywhere;
}
.site-header, .site-footer, main { width: 100%; max-width: 38rem; margin: 0 auto; padding-left: 1rem; padding-right: 1rem; }
.site-header { display: flex; align-items: center; gap: .6rem; padding-top: 1.25rem; padding-bottom: 1rem; font-size: 1.05rem; font-weight: 600; }
.site-header img { height: 2rem; width: auto; max-width: 10rem; }
main { background: var(--surface); border: 1px solid var(--border); border-radius: .75rem; padding: 1.5rem; }
.site-footer { padding-top: 1rem; padding-bottom: 2rem; font-size: .9rem; color: var(--muted); }
.site-footer a { color: var(--muted); }

h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.125rem; line-height: 1.3; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
p { margin: 0 0 1rem; }
ul { margin: 0 0 1rem; padding-left: 1.25rem; }
li { margin: .25rem 0; }
a { color: var(--link); text-underline-offset: .15em; }
a:hover { text-decoration-thickness: 2px; }
q { font-style: italic; }
.muted { color: var(--muted); }

label { display: block; font-weight: 600; margin-bottom: .25rem; }
input {
  display: block; width: 100%; margin: 0 0 1rem; padding: .6rem .75rem;
  font: inherit; color: inherit; background: var(--surface);
  border: 1px solid var(--field); border-radius: .5rem;
}

button, .button {
  display: inline-flex; align-items: center; justify-content: center;
  min-height: 2.75rem; padding: .55rem 1.25rem;
  font: inherit; font-weight: 600; line-height: 1.25; text-align: center; text-decoration: none;
  color: var(--accent-text); background: var(--accent);
  border: 1px solid var(--accent); border-radius: .5rem; cursor: pointer;
}
button:hover, .button:hover { filter: brightness(.92); }
button.secondary, .button.secondary { color: var(--text); background: var(--surface); border-color: var(--field); }
button.secondary:hover, .button.secondary:hover { filter: none; background: var(--bg); }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1.5rem 0 .5rem; }
form.actions, .actions form { margin-bottom: .5rem; }
@media (max-width: 30rem) { .actions > button { flex: 1 1 8rem; } }

:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input:focus-visible { outline-offset: 0; border-color: var(--focus); }
input[type="checkbox"] { display: inline-block; width: auto; margin: 0 .5rem 0 0; vertical-align: middle; }
label.choice { font-weight: 400; margin-bottom: .5rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; }
legend { font-weight: 600; margin-bottom: .25rem; }
code.secret { display: block; padding: .75rem; background: var(--bg); border-radius: .4rem; font-size: .95rem; word-break: break-all; }

[role="alert"], [role="status"], [role="note"] { border: 1px solid; border-radius: .5rem; padding: .75rem 1rem; }
[role="alert"] { color: var(--danger); background: var(--danger-bg); border-color: #f4a196; }
[role="status"] { color: var(--ok); background: var(--ok-bg); border-color: #8fe0b0; }
[role="note"] { background: var(--note-bg); border-color: var(--note-border); }

.card { border: 1px solid var(--border); border-radius: .6rem; padding: 1rem 1rem .25rem; margin: 0 0 1rem; }
.card > h2:first-child, .card > h3:first-child { margin-top: 0; }
.card .actions { margin-top: 1rem; }
dl.facts {
  display: grid; grid-template-columns: minmax(3rem, max-content) 1fr; gap: .15rem .75rem;
  margin: .35rem 0 .5rem; padding: .5rem .75rem; background: var(--bg); border-radius: .4rem; font-size: .95rem;
}
dl.facts dt { color: var(--muted); font-weight: 600; }
dl.facts dd { margin: 0; white-space: pre-wrap; }
ul.options { list-style: none; padding: 0; display: grid; gap: .5rem; }
ul.options .button { width: 100%; justify-content: flex-start; }
nav.links { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; margin: 1.25rem 0 0; }
.signed-in { color: var(--muted); }

@media (max-width: 40rem) {
  main { border-left: 0; border-right: 0; border-radius: 0; padding: 1.25rem 1rem; }
  .site-header { padding-top: .75rem; padding-bottom: .75rem; }
}
`;
