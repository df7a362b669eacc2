import { listTrustedFolders, trustFolder, untrustFolder, userConfigDir } from '../../core/index.js';
import { printJsonLine } from '../output.js';
import type { TrustOptions } from '../command-options.js';

/**
 * `focal trust [path]`: marks a folder (default: the current one) trusted, so that its
 * focal.config.json and node_modules plugins load; `--list` prints the trusted folders,
 * `--remove` forgets one. Remembered by real path in the user's config folder.
 */
export async function trustCommand(path: string | undefined, opts: TrustOptions): Promise<void> {
  const configDir = userConfigDir();
  if (opts.list) {
    const folders = await listTrustedFolders(configDir);
    if (opts.json) printJsonLine({ folders });
    else process.stdout.write(folders.length ? `${folders.join('\n')}\n` : 'no trusted folders\n');
    return;
  }
  const target = path ?? process.cwd();
  if (opts.remove) {
    const { folder, removed } = await untrustFolder(target, configDir);
    if (opts.json) printJsonLine({ folder, removed });
    else process.stdout.write(removed ? `no longer trusted: ${folder}\n` : `was not trusted: ${folder}\n`);
    return;
  }
  const folder = await trustFolder(target, configDir);
  if (opts.json) printJsonLine({ folder, trusted: true });
  else process.stdout.write(`trusted: ${folder}\n  its focal.config.json and node_modules plugins (and those of its subfolders) will now load and run\n`);
}
