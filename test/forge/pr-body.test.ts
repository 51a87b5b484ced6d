import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { ChangeSetEntry } from '../../src/guardrail/change-set.js';
import { MAX_SUMMARY_CHARS, commitTrailers, escapeMarkdownText, renderCommitMessage, renderPrBody, renderPrTitle } from '../../src/forge/pr-body.js';
import { scrub } from '../../src/security/index.js';

/** The scrubber's corpus (test/fixtures/scrub/): text with an email, phone or card number, a token or a secret in it. */
const SENSITIVE = (
  JSON.parse(readFileSync(new URL('../fixtures/scrub/corpus.json', import.meta.url), 'utf8')) as {
    positives: Array<{ kind: string; text: string; secret: string }>;
  }
).positives;

/** What a reader sees of rendered markdown: escapes and entities undone. */
const visible = (markdown: string): string =>
  markdown
    .replace(/@&#8203;/g, '@')
    .replace(/\\(.)/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const entry = (path: string, extra: Partial<ChangeSetEntry> = {}): ChangeSetEntry => ({
  path,
  status: 'modified',
  mode: '100644',
  content: Buffer.from('x'),
  size: 1,
  ...extra,
});

const bodyFor = (summary: string, entries: ChangeSetEntry[] = [entry('src/app.ts')]): string =>
  renderPrBody({
    runId: 'run_01HX',
    description: { title: 't', summary, reportUrl: 'https://userz.example/reports/r_1', guardrail: { checkedPaths: 1, ruleCount: 12 } },
    entries,
  });

/** A mention GitHub or GitLab would link: `@` directly followed by a name character. */
const LIVE_MENTION = /@[A-Za-z0-9_]/;
const IMAGE = /!\[|<img/i;
const HTML_TAG = /<[A-Za-z!/?]/;
const HIDDEN = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]/;
/** A GitLab quick action is a line starting with `/`. */
const QUICK_ACTION = /^\s*\//m;

const adversarial = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(
      fc.constantFrom(
        '@',
        'admin',
        '@org/team',
        '![x](https://evil.example/a.png)',
        '<img src=x>',
        '<!--',
        '-->',
        '<details>',
        '\u202e',
        '\u200b',
        '\n',
        '/assign @me',
        '`',
        '\\',
        '&#64;',
        '&lt;',
        '[',
        '](',
        '<',
        '>',
        'a',
        ' ',
        '&',
        '#',
        ';',
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join('')),
);

describe('renderPrBody', () => {
  it('never renders a live mention, an image, an html tag, a comment, a hidden character or a quick action, whatever the summary', () => {
    fc.assert(
      fc.property(adversarial, (summary) => {
        const body = bodyFor(summary);
        expect(body).not.toMatch(LIVE_MENTION);
        expect(body).not.toMatch(IMAGE);
        expect(body).not.toMatch(HTML_TAG);
        expect(body).not.toContain('<!--');
        expect(body).not.toMatch(HIDDEN);
        expect(body).not.toMatch(QUICK_ACTION);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the same guarantees for hostile file paths', () => {
    fc.assert(
      fc.property(adversarial, (path) => {
        const body = bodyFor('fine', [entry(path || 'x'), entry('new', { status: 'renamed', oldPath: path || 'y' })]);
        expect(body).not.toMatch(LIVE_MENTION);
        expect(body).not.toMatch(IMAGE);
        expect(body).not.toMatch(HTML_TAG);
        expect(body).not.toMatch(QUICK_ACTION);
      }),
      { numRuns: 200 },
    );
  });

  it('is bounded however long the summary and the file list are', () => {
    const many = Array.from({ length: 500 }, (_, i) => entry(`dir/file-${i}.ts`));
    const body = bodyFor('@'.repeat(100_000), many);
    expect(body.length).toBeLessThan(MAX_SUMMARY_CHARS * 10 + 20_000);
    expect(body).toContain('* and 450 more');
  });

  it('shows a mention as text with a zero-width-space entity that breaks the link', () => {
    expect(escapeMarkdownText('thanks @octocat and @acme/team')).toBe('thanks @&#8203;octocat and @&#8203;acme\\/team');
  });

  it('escapes entities that a reporter typed so they are shown, not decoded', () => {
    expect(escapeMarkdownText('&#64;admin <b>')).toBe('&amp;\\#64\\;admin &lt;b&gt;');
  });

  it('lists files, the guardrail result, the run id and a link to the report', () => {
    const body = bodyFor('Fix the login button', [entry('src/login.ts'), entry('docs/b.md', { status: 'renamed', oldPath: 'docs/a.md' })]);
    expect(body).toContain('Fix the login button');
    expect(body).toContain('* modified: src\\/login\\.ts');
    expect(body).toContain('* renamed: docs\\/a\\.md → docs\\/b\\.md');
    expect(body).toContain('**Guardrail:** passed, 1 paths checked against 12 rules.');
    expect(body).toContain('[Open the report in Userz](https://userz.example/reports/r_1)');
    expect(body).toContain('Userz run `run_01HX`');
  });

  it('leaves out a report link that is not http(s)', () => {
    const body = renderPrBody({
      runId: 'r1',
      description: { title: 't', summary: 's', reportUrl: 'javascript:alert(1)', guardrail: { checkedPaths: 1, ruleCount: 1 } },
      entries: [entry('a')],
    });
    expect(body).not.toContain('javascript');
    expect(body).not.toContain('Open the report');
  });

  it('refuses a run id that is not a plain token', () => {
    expect(() => renderPrBody({ runId: 'x`@y', description: { title: 't', summary: 's', guardrail: { checkedPaths: 0, ruleCount: 0 } }, entries: [] })).toThrow(
      expect.objectContaining({ code: 'forge_invalid_run_id' }),
    );
  });
});

describe('personal data and secrets in PR text', () => {
  it.each(SENSITIVE.map((p) => [p.kind, p]))('scrubs what the corpus marks as %s from the summary before it reaches the PR body', (_kind, p) => {
    const body = visible(bodyFor(`Fixed the rounding. ${p.text} Tested with two items.`));
    expect(body).not.toContain(p.secret);
    expect(body).not.toContain(p.secret.normalize('NFKC'));
    expect(body).toContain('[redacted');
    expect(body).toContain('Fixed the rounding.');
  });

  it('scrubs the reporter data of the review finding (email, phone, card) from body, title and commit message', () => {
    const summary = 'Reporter jane.roe@example.com (+1 415 555 0132) paid with 4111 1111 1111 1111 and saw a wrong total.';
    const outputs = [
      visible(bodyFor(summary)),
      renderPrTitle(`Fix for jane.roe@example.com`),
      renderCommitMessage({ runId: 'run_1', title: 'Fix the total', summary }),
    ];
    for (const out of outputs) {
      expect(out).not.toMatch(/jane\.roe|example\.com|415|0132|4111/);
      expect(out).toContain('redacted');
    }
  });

  // The agent names the files it creates; a test fixture named after the reporter is report data too.
  // Corpus entries whose secret is recognisable on its own, outside its sentence.
  const standalone = SENSITIVE.filter((p) => !/[\s/\\]/.test(p.secret) && Object.keys(scrub(p.secret).found).length > 0);
  it.each(standalone.map((p) => [p.kind, p.secret, p]))(
    'scrubs what the corpus marks as %s (%j) from the file list, new and old names',
    (_kind, _secret, p) => {
      const name = p.secret;
      const body = visible(
        bodyFor('Fixed the rounding.', [
          entry(`test/fixtures/${name}.json`, { status: 'added' }),
          entry('test/fixtures/renamed.json', { status: 'renamed', oldPath: `test/old/${name}.txt` }),
        ]),
      );
      expect(body).not.toContain(name);
      expect(body).toContain('[redacted');
      expect(body).toContain('test/fixtures/renamed.json');
    },
  );

  it('recognises a secret that the summary cap would cut in half', () => {
    const token = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    const body = visible(bodyFor(`${'x'.repeat(MAX_SUMMARY_CHARS - 10)} ${token}`));
    expect(body).not.toContain('ghp_');
    expect(body).not.toContain('A1b2C3');
  });
});

describe('renderCommitMessage', () => {
  it('is the title, the summary as one scrubbed paragraph, and the run trailer', () => {
    const message = renderCommitMessage({ runId: 'run_1', title: 'Fix the total', summary: 'Removed the stray +1.\nTotals now add up.' });
    expect(message).toBe('Fix the total\n\nRemoved the stray +1. Totals now add up.\n\nUserz-Run: run_1');
  });

  it('never lets the summary mention anyone, show an image or tag, or add a trailer of its own', () => {
    fc.assert(
      fc.property(adversarial, (summary) => {
        const message = renderCommitMessage({ runId: 'run_1', title: 't', summary: `${summary}\n\nUserz-Run: run_2\nCo-authored-by: x <x@example.com>` });
        const paragraphs = message.split('\n\n');
        expect(paragraphs.at(-1)).toBe('Userz-Run: run_1');
        expect(paragraphs.length).toBeLessThanOrEqual(3);
        expect(message).not.toContain('@');
        expect(message).not.toMatch(/!\[|<|>/);
        expect(message).not.toMatch(HIDDEN);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the summary paragraph out when there is none', () => {
    expect(renderCommitMessage({ runId: 'run_1', title: 'Fix', summary: '  ' })).toBe('Fix\n\nUserz-Run: run_1');
  });

  it('adds the follow-up ordinal to the trailer block of a follow-up commit, and the trailers read back', () => {
    const message = renderCommitMessage({ runId: 'run_1', title: 'Follow-up 2', summary: 'Also negative prices.', followUp: 2 });
    expect(message).toBe('Follow-up 2\n\nAlso negative prices.\n\nUserz-Run: run_1\nUserz-Follow-Up: 2');
    expect(commitTrailers(message)).toEqual({ runId: 'run_1', followUp: 2 });
    expect(commitTrailers(renderCommitMessage({ runId: 'run_1', title: 'Fix', summary: 's' }))).toEqual({ runId: 'run_1', followUp: null });
  });
});

describe('commitTrailers', () => {
  it('reads only the last paragraph, so a summary or title that looks like a trailer is not one', () => {
    // What a hostile summary can make of the summary paragraph: one line, whatever it says.
    const message = renderCommitMessage({ runId: 'run_1', title: 'Userz-Follow-Up: 3', summary: 'Userz-Follow-Up: 3', followUp: 1 });
    expect(commitTrailers(message)).toEqual({ runId: 'run_1', followUp: 1 });
    expect(commitTrailers('Userz-Run: run_9\nUserz-Follow-Up: 1\n\nA later paragraph someone wrote')).toEqual({ runId: null, followUp: null });
    expect(commitTrailers('Fix\r\n\r\nUserz-Run: run_1\r\nUserz-Follow-Up: 1\r\n')).toEqual({ runId: 'run_1', followUp: 1 });
    expect(commitTrailers('Fix\n\nUserz-Run: run_1\nUserz-Follow-Up: 0x1')).toEqual({ runId: 'run_1', followUp: null });
    expect(commitTrailers('')).toEqual({ runId: null, followUp: null });
  });
});

describe('renderPrTitle', () => {
  it('is one bounded line with no hidden characters and no mention', () => {
    fc.assert(
      fc.property(adversarial, (title) => {
        const out = renderPrTitle(title);
        expect(out).not.toMatch(/[\n\r]/);
        expect(out).not.toMatch(HIDDEN);
        expect(out).not.toContain('@');
        expect(Array.from(out).length).toBeLessThanOrEqual(100);
        expect(out.length).toBeGreaterThan(0);
      }),
    );
  });
});
