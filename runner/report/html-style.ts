// The notebook pages' stylesheet, inlined in each page so that it is one file that opens anywhere.
export const PAGE_STYLE = `
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --muted: #59636e; --line: #d1d9e0; --code: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 960px; padding: 1.5rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
header { border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
h1 { margin: 0 0 .25rem; }
.summary { color: var(--muted); }
pre, code { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--code); padding: .6rem .8rem; overflow-x: auto; border-radius: 6px; margin: .4rem 0; white-space: pre-wrap; word-break: break-word; }
:not(pre) > code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
.cell { margin: 1rem 0; }
.code-cell { border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px; padding: .5rem .8rem; }
.code-cell.status-passed { border-left-color: var(--pass); }
.code-cell.status-failed, .code-cell.status-kernel-died { border-left-color: var(--fail); }
.code-cell.status-timed-out { border-left-color: var(--warn); }
.code-cell.status-skipped, .code-cell.status-not-run { border-left-color: var(--line); }
.cell-heading { display: flex; gap: .6rem; align-items: baseline; color: var(--muted); font-size: 13px; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; color: #fff; font-size: 12px; font-weight: 600; }
.badge.status-passed, .badge.outcome-passed { background: var(--pass); }
.badge.status-failed, .badge.status-kernel-died, .badge.outcome-failed, .badge.outcome-error { background: var(--fail); }
.badge.status-timed-out { background: var(--warn); }
.badge.status-skipped, .badge.status-not-run { background: var(--muted); }
.cell-id { font-family: ui-monospace, monospace; }
.execution-count { margin-left: auto; }
.stderr { background: #fff8f0; }
.error-output, .cell-error, .infrastructure-error { color: var(--fail); }
.error-output .ename { font-weight: 600; }
.check { margin: .3rem 0; padding: .3rem .6rem; border-radius: 6px; }
.check-passed { background: #dafbe1; }
.check-failed { background: #ffebe9; }
.check-badge { font-weight: 600; }
.check-passed .check-badge { color: var(--pass); }
.check-failed .check-badge { color: var(--fail); }
.check-name { font-weight: 600; }
.check-message { white-space: pre-wrap; }
.check-meta, .skip-reason, .note { color: var(--muted); }
.image-output { max-width: 100%; }
`;
