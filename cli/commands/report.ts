import { DefaultIoService, rebuildRunReport } from '../../core/index.js';
import type { GlobalOptions, ReportOptions } from '../command-options.js';
import { printJsonLine } from '../output.js';

/**
 * `focal report <out>`: rebuilds `<out>/report.html` from `<out>/run.json` and the output files
 * there (inputs are previewed when their files are still there, unchanged). What could not be
 * read is named on stderr and in the page.
 */
export async function reportCommand(out: string, opts: ReportOptions, _globals: GlobalOptions): Promise<void> {
  const { file, missing } = await rebuildRunReport(out, new DefaultIoService());
  if (opts.json) {
    printJsonLine({ event: 'result', ok: true, report: file, missing });
    return;
  }
  for (const m of missing) process.stderr.write(`focal: warning: ${out}: ${m}\n`);
  process.stdout.write(`Report: ${file}\n  open it in a browser: file://${file}\n`);
}
