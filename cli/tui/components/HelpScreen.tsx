import { Text } from 'ink';
import { useKeys } from '../hooks/useKeys.js';
import { Frame } from './Frame.js';

export const HELP_LINES = [
  'pipelines   ↑/↓ move · enter open · w watch dashboard',
  'pipeline    ↑/↓ move over inputs and nodes',
  '            enter on an input: pick its file · on a node: edit its params',
  '            o output folder · r run · esc back',
  'params      ↑/↓ field · enter edit (enter apply, esc cancel) · d default',
  '            zod checks each value; its message shows under the field',
  'files       ↑/↓ move · enter open folder / pick file · backspace up',
  '            shows folders and .tif .tiff .json .csv files',
  'run         c or esc cancel · enter results when done',
  'results     ↑/↓ output (tables show their first rows) · p pipelines',
  'watch       f folder · p pipeline · o out dir · s start · x stop',
  '            esc leaves the dashboard; watching goes on until x or quit',
  'anywhere    ? this help · q quit (not while typing) · ctrl-c quit',
  '',
  'Runs write every output, a PNG preview of each image, and run.json.',
  'Edited params are saved as <out>/<pipeline>.edited.json, the file run.',
  'NO_COLOR=1 turns colour off.',
  'Screens fit the terminal; it needs at least 80 × 24 (columns × rows).',
];

export function HelpScreen({ onClose }: { onClose: () => void }) {
  useKeys(() => onClose());
  return (
    <Frame title="keys" keys={[{ key: 'any key', label: 'close' }]}>
      {HELP_LINES.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </Frame>
  );
}
