import { describe, expect, it } from 'vitest';
import { renderCommandsMarkdown, type CommandResult } from '../src/commands.js';

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
