import { describe, expect, it } from 'vitest';
import { renderCommandsMarkdown, withCommandsNotes, withCommandsSection, type CommandResult } from '../src/commands.js';

describe('bench:commands report', () => {
  it('gives time and memory ratios against scikit-learn and mclust, and lists errors', () => {
    const results: CommandResult[] = [
      {
        command: 'fit',
        job: 'a job',
        gmmkit: { seconds: 2, peakBytes: 300 * 2 ** 20 },
        sklearn: { seconds: 4, peakBytes: 200 * 2 ** 20 },
      },
      {
        command: 'sweep',
        job: 'another',
        gmmkit: { seconds: 3, peakBytes: 100 * 2 ** 20 },
        sklearn: { error: 'pandas not installed' },
        mclust: { seconds: 6, peakBytes: 1 },
      },
    ];
    const md = renderCommandsMarkdown(results, 'HEADER');
    const rows = md.split('\n').filter((l) => l.startsWith('| `gmm'));
    expect(rows[0]).toBe('| `gmm fit` | a job | 2.00 s | 4.00 s | 0.50x | 300 MiB | 200 MiB | 1.50x |  |');
    expect(rows[1]).toBe('| `gmm sweep` | another | 3.00 s | error |  | 100 MiB |  |  | 6.00 s (0.50x) |');
    expect(md).toContain('- sweep, sklearn: pandas not installed');
    expect(md.startsWith('HEADER')).toBe(true);
  });
});

describe('withCommandsSection (docs/benchmarks.md)', () => {
  const heading = '## Whole commands against scikit-learn and mclust';
  it('replaces the heading through its table and keeps the notes after it and the sections before', () => {
    const doc = `# B\n\n## Other\n\ntext\n\n${heading}\n\nold run\n\n| a |\n|---|\n| 1 |\n\nNotes on earlier runs.\n\n### older\n\nmore\n`;
    const out = withCommandsSection(doc, `${heading}\n\nnew run\n\n| a |\n|---|\n| 2 |\n`);
    expect(out).toBe(`# B\n\n## Other\n\ntext\n\n${heading}\n\nnew run\n\n| a |\n|---|\n| 2 |\n\nNotes on earlier runs.\n\n### older\n\nmore\n`);
  });
  it('appends the section when the document has none', () => {
    expect(withCommandsSection('# B\n', `${heading}\n\n| a |\n`)).toBe(`# B\n\n${heading}\n\n| a |\n`);
  });
});

describe('withCommandsNotes (pnpm bench --docs)', () => {
  const heading = '## Whole commands against scikit-learn and mclust';
  it('keeps the notes after the previous whole-commands table behind the regenerated document', () => {
    const previous = `# B\n\nold sections\n\n${heading}\n\n| a |\n|---|\n| 1 |\n\nNotes on earlier runs.\n\n### older\n\nmore\n`;
    const generated = `# B\n\nnew sections\n\n${heading}\n\n| a |\n|---|\n| 2 |\n`;
    expect(withCommandsNotes(generated, previous)).toBe(`# B\n\nnew sections\n\n${heading}\n\n| a |\n|---|\n| 2 |\n\nNotes on earlier runs.\n\n### older\n\nmore\n`);
    expect(withCommandsNotes(generated, '# B\n\nno commands section\n')).toBe(generated);
  });
});
